// PostgreSQL over TLS: the project's own server (TLS by default, a certificate made at its first
// start, pg_hba accepting hostssl with a password only) refuses plaintext clients and wrong
// passwords, a client trusting another CA fails verify-full with an error that says what to
// check, and every TLS setting of DATABASE_URL is checked before a connection is tried.
// A throwaway server of this file's own: the shared one (DATABASE_URL) may be plaintext.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startLocalPostgres } from '../services/local-postgres/local-postgres.js';
import { databaseClientConfig, databaseConnection, DatabaseTlsError } from '../services/platform/database-connection.js';
import { openDatabase } from '../services/platform/database.js';
import { ConfigError } from '../services/platform/config.js';
import { captureLoopback, tcpdumpMissing } from './helpers/packet-capture.js';
import { eventually } from './helpers/test-bus.js';

function withParams(url: string, set: Record<string, string | null>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(set)) {
    if (v === null) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return u.toString();
}

async function tryConnect(config: pg.ClientConfig): Promise<unknown> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0];
  } catch (err) {
    return err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

t.test('the local server: TLS only, verified, with a password', async (t) => {
  const server = await startLocalPostgres();
  t.teardown(() => server.stop());
  t.ok(server.caFile, 'TLS is on by default');

  t.same(await tryConnect(databaseClientConfig(server.url)), { ssl: true }, 'the owner URL connects over verified TLS');

  const plain = await tryConnect(databaseClientConfig(withParams(server.url, { sslmode: null, sslrootcert: null })));
  t.match(plain, { code: '28000', message: /no pg_hba\.conf entry .*no encryption/ }, 'a client without TLS is refused by pg_hba (hostssl only)');
  const disabled = await tryConnect(databaseClientConfig(withParams(server.url, { sslmode: 'disable', sslrootcert: null })));
  t.match(disabled, { code: '28000' }, 'sslmode=disable too');

  const u = new URL(server.url);
  u.password = 'not-the-password';
  t.match(await tryConnect(databaseClientConfig(u.toString())), { code: '28P01' }, 'a wrong password is refused over TLS too (scram-sha-256, no trust)');

  // A CA the server's certificate does not chain to.
  const otherDir = mkdtempSync(join(tmpdir(), 'lgsp-other-ca-'));
  t.teardown(() => rmSync(otherDir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Some other CA'], { cwd: otherDir, stdio: 'ignore' });
  const wrongCa = withParams(server.url, { sslrootcert: join(otherDir, 'ca.pem') });
  const refused = await openDatabase(wrongCa).catch((err: unknown) => err);
  t.ok(refused instanceof DatabaseTlsError, 'verify-full with the wrong CA fails at open, as a TLS error');
  t.match((refused as Error).message, /certificate is not trusted .*sslmode=verify-full, sslrootcert=.*other-ca/, 'the message names the settings to check');
  t.notMatch((refused as Error).message, new URL(server.url).password, 'and never the password');
  t.match(await tryConnect(databaseClientConfig(withParams(wrongCa, { sslmode: 'verify-ca' }))), { code: /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/ }, 'verify-ca checks the chain too');
  t.same(await tryConnect(databaseClientConfig(withParams(wrongCa, { sslmode: 'require' }))), { ssl: true }, "require encrypts without authenticating the server (libpq's meaning, documented as such)");

  // The name: the certificate is for 127.0.0.1 and localhost, and verify-full checks it.
  const byName = new URL(server.url);
  byName.hostname = 'localhost';
  t.same(await tryConnect(databaseClientConfig(byName.toString())), { ssl: true }, 'localhost is in the certificate');
});

t.test('the TLS settings of DATABASE_URL are checked before any connection', async (t) => {
  const base = 'postgres://u:p@127.0.0.1:5432/db';
  t.equal(databaseConnection(base).ssl, false, 'no sslmode: plaintext (TLS when configured)');
  t.same(databaseConnection(`${base}?sslmode=verify-full`).ssl, { rejectUnauthorized: true }, 'verify-full without sslrootcert: the system CAs');
  t.equal(databaseConnection(`${base}?sslmode=verify-full&application_name=x`).connectionString, `${base}?application_name=x`, 'TLS parameters are taken out of the connection string, the rest kept');
  const rejects = (url: string, pattern: RegExp, what: string) => {
    let thrown: unknown;
    try {
      databaseConnection(url);
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof ConfigError, `${what}: a ConfigError`);
    t.match((thrown as Error | undefined)?.message, pattern, what);
  };
  rejects(`${base}?sslmode=prefer`, /sslmode=prefer is not supported \(it falls back to plaintext silently\)/, 'prefer is refused');
  rejects(`${base}?sslmode=allow`, /sslmode=allow/, 'allow is refused');
  rejects(`${base}?sslmode=no-verify`, /sslmode=no-verify is not supported/, "pg's no-verify is refused");
  rejects(`${base}?ssl=true`, /parameter ssl is not supported/, "pg's own ssl switch is refused: one way to say it");
  rejects(`${base}?sslmode=verify-ca`, /verify-ca needs sslrootcert/, 'verify-ca needs a CA file');
  rejects(`${base}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`, /sslrootcert=\/nonexistent\/ca\.pem cannot be read/, 'an unreadable CA file is named');
  rejects(`${base}?sslrootcert=/tmp/ca.pem`, /TLS files but no sslmode/, 'a CA file without sslmode is a mistake, not plaintext');
  rejects(`${base}?sslmode=verify-full&sslcert=/tmp/c.pem`, /both sslcert and sslkey/, 'a client certificate needs its key');
  rejects('mysql://u@h/db', /must start with postgres:\/\//, 'another scheme');
  await t.rejects(openDatabase(`${base}?sslmode=prefer`), ConfigError, 'openDatabase refuses it at start, before connecting');
});

t.test('wire check: a row written over TLS crosses loopback unreadable; without TLS it does not', async (t) => {
  // Missing tcpdump fails the check instead of skipping it (CI installs it, as for the Kafka wire check).
  if (tcpdumpMissing) return t.fail('tcpdump is not installed');
  const [secured, plain] = await Promise.all([startLocalPostgres(), startLocalPostgres({ plaintext: true })]);
  t.teardown(() => Promise.all([secured.stop(), plain.stop()]));
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-pg-wire-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const seen = async (server: typeof secured, name: string): Promise<boolean> => {
    const file = join(dir, `${name}.pcap`);
    const capture = await captureLoopback(file, `tcp port ${server.port}`);
    try {
      const marker = `PG-WIRE-MARKER-${randomUUID()}`;
      const client = new pg.Client(databaseClientConfig(server.url));
      await client.connect();
      try {
        await client.query('CREATE TABLE IF NOT EXISTS wire_check (body text)');
        await client.query('INSERT INTO wire_check VALUES ($1)', [`${marker} Nguyễn Văn A, 012345678901`]);
        t.equal((await client.query('SELECT body FROM wire_check WHERE body LIKE $1', [`${marker}%`])).rowCount, 1, `${name}: written and read back`);
      } finally {
        await client.end();
      }
      await eventually(() => statSync(file).size > 24, 10_000, 100);
      await capture.stop();
      return readFileSync(file).includes(Buffer.from(marker));
    } finally {
      await capture.stop();
    }
  };
  t.equal(await seen(plain, 'plaintext'), true, 'control: without TLS the capture holds the marker (the check can fail)');
  t.equal(await seen(secured, 'tls'), false, 'over TLS no byte of it is on the wire');
});
