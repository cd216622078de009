// `lgsp audit verify --keys <file>` handed a keyset that holds no checkpoint or no record keys (an
// empty JWKS, one saved from /.well-known/jwks.json?purpose=token) called a sound chain TAMPERED
// and exited 1: no checkpoint could verify. Such a keyset cannot judge the chain: it is a usage
// error (exit 2) that says which keys are missing and where the whole keyset is.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { AuditStore } from '../services/audit/audit-store.js';
import { runAuditVerify } from '../services/audit/verify-command.js';
import { openDatabase } from '../services/platform/database.js';
import { createTestDatabase } from './helpers/test-database.js';
import { createTestKeys } from './helpers/test-keys.js';

t.test('a keyset without checkpoint or record keys is a usage error, not a verdict', async (t) => {
  const dataDir = t.testdir();
  const keys = await createTestKeys(dataDir);
  const database = await createTestDatabase('audit-verify-keyset');
  const db = await openDatabase(database.url);
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  const store = new AuditStore(db);
  await store.appendBatch([{ id: uuidv7(), event: 'status', at: new Date().toISOString(), actor: 'gateway', messageId: uuidv7() }]);
  await store.checkpoint(await keys.signing('audit', 'checkpoint'));

  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  const verify = (keysFile: string) => runAuditVerify(['--database', database.url, '--keys', keysFile, '--brokers', ''], out);

  t.equal(await verify(keys.jwksFile), 0, 'the whole keyset: intact');
  t.match(lines.join('\n'), /OK: chain intact/);

  const empty = join(dataDir, 'empty.json');
  writeFileSync(empty, JSON.stringify({ keys: [] }));
  lines.length = 0;
  t.equal(await verify(empty), 2, 'an empty keyset');
  t.match(lines.join('\n'), /holds no checkpoint and no record keys .*jwks\.json\?include=superseded/);
  t.notMatch(lines.join('\n'), /TAMPERED/);

  const tokenOnly = join(dataDir, 'token-keys.json');
  writeFileSync(tokenOnly, JSON.stringify(keys.publicKeys.jwks({ purpose: 'token', archive: true })));
  lines.length = 0;
  t.equal(await verify(tokenOnly), 2, 'a keyset saved with ?purpose=token');
  t.match(lines.join('\n'), /holds no checkpoint and no record keys/);

  const noRecord = join(dataDir, 'checkpoint-keys.json');
  writeFileSync(noRecord, JSON.stringify(keys.publicKeys.jwks({ purpose: 'checkpoint', archive: true })));
  lines.length = 0;
  t.equal(await verify(noRecord), 2, 'a keyset saved with ?purpose=checkpoint');
  t.match(lines.join('\n'), /holds no record keys \(lgsp_purpose "record"\)/);
});
