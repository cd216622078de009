// A checkpoint row someone with database access puts into audit_checkpoints, naming a seq far
// beyond the chain (any JWS), must not stop the audit from signing its head: the store took the
// row with the highest seq for its last checkpoint, so it never signed again, and the unsigned
// entries it reported (head − that seq) went negative, which kept LgspAuditHeadUnsigned quiet
// while every new entry stayed unsigned and could be cut without a trace in the checkpoints.
import pg from 'pg';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import type { BusEvent } from '../services/platform/bus-events.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { AuditStore } from '../services/audit/audit-store.js';
import { verifyAuditChain } from '../services/audit/chain-verifier.js';
import { openDatabase } from '../services/platform/database.js';
import { createTestDatabase } from './helpers/test-database.js';

const delivered = (): BusEvent => ({
  id: uuidv7(),
  event: 'delivered',
  at: new Date().toISOString(),
  actor: 'runner/relay',
  messageId: uuidv7(),
  type: 'notice.send',
  from: { member: '000.00.14.H49', system: 'qlvb' },
  to: { member: '000.00.15.H49', service: 'notices' },
});

t.test('a forged checkpoint row beyond the chain does not stop the signing', async (t) => {
  const database = await createTestDatabase('audit-forged-checkpoint-row');
  const db = await openDatabase(database.url);
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  const keystore = await PlatformKeystore.ephemeral();
  const store = new AuditStore(db);

  await store.appendBatch([delivered(), delivered(), delivered()]);
  t.match(await store.checkpoint(keystore.signingKey), { seq: 3 });
  t.equal(await store.checkpoint(keystore.signingKey), null, 'a head already signed is not signed again');

  // The insider's row: triggers off, as the table's owner can.
  const attacker = new pg.Client(databaseClientConfig(database.url));
  await attacker.connect();
  await attacker.query('SET session_replication_role = replica');
  await attacker.query(`INSERT INTO audit_checkpoints (seq, hash, signed_at, jws) VALUES (999999, $1, '2026-12-06T09:00:00.000Z', 'x.y.z')`, ['a'.repeat(64)]);
  await attacker.end();

  await store.appendBatch([delivered(), delivered()]);
  const signed = await store.checkpoint(keystore.signingKey);
  t.match(signed, { seq: 5 }, 'the new head is signed');
  t.match(await store.lastCheckpoint(), { seq: 5, hash: (await store.head())!.hash }, 'the last checkpoint is the one written last');
  t.equal(await store.checkpoint(keystore.signingKey), null, 'and not signed twice');

  const verification = await verifyAuditChain(db.pool, keystore.keyResolver(), keystore.publicKeyLookup());
  t.equal(verification.ok, false, 'the forged row is still reported');
  t.match(verification.firstBad?.reason, /signature does not verify/);
  t.equal(verification.firstBad?.seq, 6, 'named at the end of the chain, not as an entry 999999 that does not exist');
  t.match(verification.firstBad?.reason, /claims to cover seq 999999, beyond the chain's end at 5/);
});
