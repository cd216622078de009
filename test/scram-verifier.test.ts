// Passwords reach PostgreSQL as SCRAM verifiers: the server stores the string as sent and
// authenticates the password against it; the statement never holds the password.
import t from 'tap';
import pg from 'pg';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import { scramSha256Verifier } from '../services/local-postgres/scram-verifier.js';
import { createTestDatabase, withLogin } from './helpers/test-database.js';

t.test('the verifier has PostgreSQL\'s form and depends on salt and password', async (t) => {
  const salt = Buffer.alloc(16, 7);
  const v = scramSha256Verifier('pencil', salt);
  t.match(v, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
  t.equal(scramSha256Verifier('pencil', salt), v, 'deterministic for one salt');
  t.not(scramSha256Verifier('pencil'), scramSha256Verifier('pencil'), 'a fresh salt each time');
  t.not(scramSha256Verifier('pencil2', salt), v);
  t.notMatch(v, /pencil/);
  t.throws(() => scramSha256Verifier('mật khẩu'), RangeError, 'non-ASCII would need SASLprep');
});

t.test('a role given the verifier logs in with the password, and only with it', async (t) => {
  const database = await createTestDatabase('scram');
  t.teardown(() => database.drop());
  const admin = new pg.Client(databaseClientConfig(database.url));
  await admin.connect();
  t.teardown(() => admin.end());
  const role = `scram_${database.name}`.slice(0, 60);
  const password = 'a1b2c3d4e5f6a7b8c9d0';
  const verifier = scramSha256Verifier(password);
  await admin.query(`CREATE ROLE ${admin.escapeIdentifier(role)} LOGIN PASSWORD ${admin.escapeLiteral(verifier)}`);
  t.teardown(() => admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(role)}`));
  const { rows } = await admin.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
  t.equal(rows[0].rolpassword, verifier, 'stored as sent');

  const login = async (pw: string) => {
    const c = new pg.Client(databaseClientConfig(withLogin(database.url, role, pw)));
    try {
      await c.connect();
      return (await c.query<{ who: string }>('SELECT current_user AS who')).rows[0].who;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  t.equal(await login(password), role);
  await t.rejects(login('wrong-password'), /password authentication failed/);
});
