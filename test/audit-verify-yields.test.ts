// The integrity check (GET /v1/audit/integrity, the console's integrity box, the leader's full
// pass) runs inside the audit service. It checked each chunk of 5,000 entries in one go, and an
// entry with record evidence costs a signature and proof check: on a soak's 76,000-entry chain
// the audit service's event loop stood still for 1-2.5 s once per chunk — /healthz answered in
// 5-8 s, the consumer and the queries waited — for the whole 20 s pass. The verifier now gives
// the event loop a turn every few hundred entries. Here each entry's record check is made slow
// on purpose (its key lookup takes LOOKUP_MS), so a chunk checked in one go stalls the loop for
// the whole chain, and one that yields for a fraction of it.
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { base64url } from 'jose';
import type { BusEvent } from '../services/platform/bus-events.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { AuditStore } from '../services/audit/audit-store.js';
import { verifyAuditChain } from '../services/audit/chain-verifier.js';
import { signBatch, PROOF_HEADER, SIGNATURE_HEADER } from '../services/platform/record-signing.js';
import { leafHash } from '../services/platform/merkle.js';
import { openDatabase } from '../services/platform/database.js';
import { createTestDatabase } from './helpers/test-database.js';

const ENTRIES = 1000;
const LOOKUP_MS = 1;

t.test('the chain verifier gives the event loop turns while it checks a chunk', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const database = await createTestDatabase('audit-verify-yields');
  const db = await openDatabase(database.url);
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  const store = new AuditStore(db);
  const events: BusEvent[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const value = JSON.stringify({ n: i, type: 'notice.send' });
    // One batch per record, as at a low message rate: every entry's signature is checked.
    const [headers] = signBatch([value], keystore.signingKey, 3600);
    const record = { topic: 'lgsp.msg.relay', partition: 0, offset: String(i), sig: headers[SIGNATURE_HEADER], proof: headers[PROOF_HEADER], leaf: base64url.encode(leafHash(Buffer.from(value))) };
    events.push({
      id: uuidv7(),
      event: 'accepted',
      at: new Date().toISOString(),
      actor: 'gateway',
      messageId: uuidv7(),
      type: 'notice.send',
      from: { member: '000.00.14.H49', system: 'qlvb' },
      to: { member: '000.00.15.H49', service: 'notices' },
      correlationId: `c-${i}`,
      payloadDigest: 'sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      record,
    } as BusEvent);
  }
  for (let i = 0; i < ENTRIES; i += 250) await store.appendBatch(events.slice(i, i + 250));

  const lookup = keystore.publicKeyLookup();
  let lookups = 0;
  const slowLookup = (kid: string) => {
    lookups++;
    const until = performance.now() + LOOKUP_MS;
    while (performance.now() < until);
    return lookup(kid);
  };
  let last = performance.now();
  let longestStall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestStall = Math.max(longestStall, now - last);
    last = now;
  }, 2);
  const result = await verifyAuditChain(db.pool, keystore.keyResolver(), slowLookup);
  clearInterval(timer);

  t.match(result, { ok: true, entries: ENTRIES }, 'the chain is intact');
  t.ok(lookups >= ENTRIES, `every entry's record signature was checked (${lookups} key lookups)`);
  const busy = lookups * LOOKUP_MS;
  t.ok(longestStall < busy / 2, `the longest stall of the event loop (${Math.round(longestStall)} ms) is a fraction of the ${busy} ms the checks took`);
});
