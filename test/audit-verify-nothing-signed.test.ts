// `lgsp audit verify` on a chain no checkpoint covers yet (a new bus before its first checkpoint,
// or a chain whose stored checkpoints were all deleted) said "entries 1..0 covered by signed
// checkpoints, the N newest not yet signed": it now says that none of them is covered.
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { AuditStore } from '../services/audit/audit-store.js';
import { runAuditVerify } from '../services/audit/verify-command.js';
import { openDatabase } from '../services/platform/database.js';
import { createTestDatabase } from './helpers/test-database.js';
import { createTestKeys } from './helpers/test-keys.js';

t.test('a chain no checkpoint covers', async (t) => {
  const keys = await createTestKeys(t.testdir());
  const database = await createTestDatabase('audit-verify-nothing-signed');
  const db = await openDatabase(database.url);
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  const status = () => ({ id: uuidv7(), event: 'status' as const, at: new Date().toISOString(), actor: 'gateway', messageId: uuidv7() });
  await new AuditStore(db).appendBatch([status(), status()]);

  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  t.equal(await runAuditVerify(['--database', database.url, '--keys', keys.jwksFile, '--brokers', ''], out), 0);
  const said = lines.join('\n');
  t.match(said, /OK: chain intact; none of its 2 entries is covered by a signed checkpoint yet/);
  t.notMatch(said, /1\.\.0/);
});
