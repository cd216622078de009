// Audit store and chain verifier: appending, dedupe, checkpoints, queries, and each kind of
// tampering an attacker with write access to the SQLite file could try.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import type { BusEvent, BusEventName } from '../services/platform/bus-events.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import {
  AuditStore,
  CHECKPOINT_JWS_TYPE,
  GENESIS_HASH,
  canonicalJson,
  entryHash,
  checkpointPayload,
} from '../services/audit/audit-store.js';
import { verifyAuditChain } from '../services/audit/chain-verifier.js';

const SENDER = '000.00.14.H49';
const RECEIVER = '000.00.15.H49';
const OTHER = '000.00.16.H49';

function busEvent(event: BusEventName, overrides: Partial<BusEvent> = {}): BusEvent {
  return {
    id: uuidv7(),
    event,
    at: new Date().toISOString(),
    actor: 'gateway',
    messageId: uuidv7(),
    type: 'notice.send',
    from: { member: SENDER, system: 'qlvb' },
    to: { member: RECEIVER, service: 'notices' },
    correlationId: 'c-1',
    payloadDigest: 'sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    ...overrides,
  };
}

/** Opens the file the way an attacker would: the append-only triggers do not stop them. */
function tamper(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  db.exec(`DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS entries_no_delete;
           DROP TRIGGER IF EXISTS checkpoints_no_update; DROP TRIGGER IF EXISTS checkpoints_no_delete;`);
  db.prepare(sql).run(...params);
  db.close();
}

const keystorePromise = PlatformKeystore.ephemeral();

/** A closed store with 6 entries, a checkpoint at seq 4 and one at seq 6. */
async function sixEntryStore(dir: string): Promise<string> {
  const keystore = await keystorePromise;
  const file = join(dir, `audit-${uuidv7()}.db`);
  const store = new AuditStore(file);
  store.appendBatch([busEvent('accepted'), busEvent('routed'), busEvent('delivered'), busEvent('accepted')]);
  await store.checkpoint(keystore.signingKey);
  store.appendBatch([busEvent('delivery_failed'), busEvent('dead_lettered')]);
  await store.checkpoint(keystore.signingKey);
  store.close();
  return file;
}

t.test('append builds a hash chain from the genesis hash', async (t) => {
  const store = new AuditStore(join(t.testdir(), 'audit.db'));
  t.teardown(() => store.close());
  t.equal(store.head(), null);
  t.equal(store.count(), 0);

  const events = [busEvent('accepted'), busEvent('routed'), busEvent('delivered')];
  t.equal(store.appendBatch(events), 3);
  t.equal(store.count(), 3);
  const entries = store.query().entries.reverse();
  t.same(entries.map((e) => e.seq), [1, 2, 3]);
  t.equal(entries[0].prevHash, GENESIS_HASH);
  t.equal(entries[1].prevHash, entries[0].hash);
  t.equal(entries[2].prevHash, entries[1].hash);
  t.same(store.head(), { seq: 3, hash: entries[2].hash });
  t.same(entries[0].event, events[0], 'the body round-trips the event as received');
  t.match(entries[0].hash, /^[0-9a-f]{64}$/);
});

t.test('the documented hash definition reproduces the stored hashes', async (t) => {
  const file = join(t.testdir(), 'audit.db');
  const store = new AuditStore(file);
  store.appendBatch([busEvent('accepted', { detail: { z: 1, a: { y: 'Sở Nội vụ', b: [2, 1] } } })]);
  store.close();
  const row = new Database(file, { readonly: true }).prepare('SELECT * FROM entries WHERE seq = 1').get() as Record<string, string | number>;
  t.equal(row.body, canonicalJson(JSON.parse(row.body as string)));
  t.match(row.body as string, /"detail":\{"a":\{"b":\[2,1\],"y":"Sở Nội vụ"\},"z":1\}/, 'keys sorted, arrays kept in order');
  const expected = entryHash(GENESIS_HASH, {
    seq: 1,
    eventId: row.event_id as string,
    at: row.at as string,
    recordedAt: row.recorded_at as string,
    body: row.body as string,
  });
  t.equal(row.hash, expected);
});

t.test('duplicate event ids are ignored (at-least-once delivery)', async (t) => {
  const store = new AuditStore(join(t.testdir(), 'audit.db'));
  t.teardown(() => store.close());
  const a = busEvent('accepted');
  const b = busEvent('routed');
  t.equal(store.appendBatch([a, b]), 2);
  const headBefore = store.head();
  t.equal(store.appendBatch([a, b]), 0, 'a redelivered batch appends nothing');
  t.same(store.head(), headBefore, 'and leaves the head alone');
  const c = busEvent('delivered');
  t.equal(store.appendBatch([b, c, c]), 1, 'duplicates within one batch count once');
  t.equal(store.count(), 3);
  t.same(store.query().entries.map((e) => e.event.id), [c.id, b.id, a.id]);
});

t.test('an invalid event is refused and nothing of its batch is appended', async (t) => {
  const store = new AuditStore(join(t.testdir(), 'audit.db'));
  t.teardown(() => store.close());
  t.throws(() => store.appendBatch([busEvent('accepted'), busEvent('routed', { at: 'yesterday' })]), TypeError);
  t.throws(() => store.appendBatch([{ ...busEvent('accepted'), id: '' }]), TypeError);
  t.equal(store.count(), 0);
});

t.test('the store refuses in-place edits (defence in depth)', async (t) => {
  const store = new AuditStore(join(t.testdir(), 'audit.db'));
  t.teardown(() => store.close());
  store.appendBatch([busEvent('accepted')]);
  const db = new Database(store.file);
  t.teardown(() => db.close());
  t.throws(() => db.prepare(`UPDATE entries SET event = 'delivered'`).run(), /append-only/);
  t.throws(() => db.prepare(`DELETE FROM entries`).run(), /append-only/);
});

t.test('checkpoints sign the chain head only when it moved', async (t) => {
  const keystore = await keystorePromise;
  const store = new AuditStore(join(t.testdir(), 'audit.db'));
  t.teardown(() => store.close());
  t.equal(await store.checkpoint(keystore.signingKey), null, 'nothing to sign in an empty chain');
  store.appendBatch([busEvent('accepted'), busEvent('routed')]);

  const first = await store.checkpoint(keystore.signingKey);
  t.ok(first);
  t.same({ seq: first!.seq, hash: first!.hash }, store.head());
  t.same(store.lastCheckpoint(), first);
  const header = decodeProtectedHeader(first!.jws);
  t.same(header, { alg: 'ES256', kid: keystore.signingKey.kid, typ: CHECKPOINT_JWS_TYPE });
  const { payload } = await compactVerify(first!.jws, keystore.keyResolver());
  t.equal(new TextDecoder().decode(payload), checkpointPayload({ seq: 2, hash: first!.hash, at: first!.signedAt }));

  t.equal(await store.checkpoint(keystore.signingKey), null, 'head did not move');
  store.appendBatch([busEvent('delivered')]);
  const second = await store.checkpoint(keystore.signingKey);
  t.equal(second?.seq, 3);
  t.same(store.lastCheckpoint(), second);
});

t.test('queries filter by message, member, type, event and time; newest first with a cursor', async (t) => {
  const store = new AuditStore(join(t.testdir(), 'audit.db'));
  t.teardown(() => store.close());
  const messageA = uuidv7();
  const messageB = uuidv7();
  const events = [
    busEvent('accepted', { messageId: messageA, at: '2026-03-01T01:00:00.000Z' }),
    busEvent('routed', { messageId: messageA, at: '2026-03-01T02:00:00.000Z' }),
    busEvent('delivered', { messageId: messageA, at: '2026-03-01T03:00:00.000Z' }),
    busEvent('accepted', {
      messageId: messageB,
      type: 'edoc.send',
      from: { member: OTHER, system: 'mot-cua' },
      to: { member: SENDER, service: 'edoc' },
      at: '2026-03-02T01:00:00+07:00',
    }),
    busEvent('rejected', { messageId: undefined, type: undefined, from: { member: OTHER, system: 'x' }, to: undefined, at: '2026-03-03T00:00:00.000Z' }),
  ];
  store.appendBatch(events);
  const ids = (q: Parameters<AuditStore['query']>[0]) => store.query(q).entries.map((e) => e.seq);

  t.same(ids({}), [5, 4, 3, 2, 1]);
  t.same(ids({ messageId: messageA }), [3, 2, 1]);
  t.same(ids({ member: SENDER }), [4, 3, 2, 1], 'member matches the sender or the receiver');
  t.same(ids({ member: RECEIVER }), [3, 2, 1]);
  t.same(ids({ member: OTHER }), [5, 4]);
  t.same(ids({ type: 'edoc.send' }), [4]);
  t.same(ids({ event: 'accepted' }), [4, 1]);
  t.same(ids({ event: 'accepted', member: RECEIVER }), [1], 'filters combine');
  t.same(ids({ from: '2026-03-01T02:00:00Z' }), [5, 4, 3, 2], 'from is inclusive');
  t.same(ids({ to: '2026-03-01T03:00:00Z' }), [2, 1], 'to is exclusive');
  t.same(ids({ from: '2026-03-01T18:00:00Z', to: '2026-03-01T18:00:00.001Z' }), [4], 'offsets are normalised to UTC');
  t.same(ids({ from: '2026-03-02', to: '2026-03-04' }), [5]);
  t.throws(() => store.query({ from: 'not a time' }), RangeError);

  const page1 = store.query({ limit: 2 });
  t.same(page1.entries.map((e) => e.seq), [5, 4]);
  t.equal(page1.nextBefore, 4);
  const page2 = store.query({ limit: 2, before: page1.nextBefore! });
  t.same(page2.entries.map((e) => e.seq), [3, 2]);
  const page3 = store.query({ limit: 2, before: page2.nextBefore! });
  t.same(page3.entries.map((e) => e.seq), [1]);
  t.equal(page3.nextBefore, null, 'the last page has no cursor');
  t.equal(store.query({ limit: 5 }).nextBefore, null);

  store.appendBatch(Array.from({ length: 1100 }, () => busEvent('routed')));
  t.equal(store.query({ limit: 5000 }).entries.length, 1000, 'limit is capped at 1000');
  t.equal(store.query().entries.length, 100, 'default limit 100');
});

t.test('verification of an untouched store', async (t) => {
  const keystore = await keystorePromise;
  const dir = t.testdir();
  const file = await sixEntryStore(dir);
  t.same(await verifyAuditChain(file, keystore.keyResolver()), { ok: true, entries: 6, checkpoints: 2, signedThrough: 6 });

  const empty = new AuditStore(join(dir, 'empty.db'));
  empty.close();
  t.same(await verifyAuditChain(join(dir, 'empty.db'), keystore.keyResolver()), { ok: true, entries: 0, checkpoints: 0, signedThrough: 0 });

  const unsignedTail = new AuditStore(file);
  unsignedTail.appendBatch([busEvent('status')]);
  unsignedTail.close();
  t.same(await verifyAuditChain(file, keystore.keyResolver()), { ok: true, entries: 7, checkpoints: 2, signedThrough: 6 });
});

t.test('tampering is detected and the first bad entry named', async (t) => {
  const keystore = await keystorePromise;
  const dir = t.testdir();
  const verify = (file: string) => verifyAuditChain(file, keystore.keyResolver());

  t.test('an edited body', async (t) => {
    const file = await sixEntryStore(dir);
    const row = new Database(file, { readonly: true }).prepare('SELECT body FROM entries WHERE seq = 3').get() as { body: string };
    const edited = canonicalJson({ ...JSON.parse(row.body), event: 'dead_lettered' });
    tamper(file, 'UPDATE entries SET body = ? WHERE seq = 3', edited);
    const result = await verify(file);
    t.equal(result.ok, false);
    t.equal(result.firstBad?.seq, 3);
    t.match(result.firstBad?.reason, /hash mismatch/);
  });

  t.test('an edited indexed column', async (t) => {
    const file = await sixEntryStore(dir);
    tamper(file, `UPDATE entries SET to_member = ? WHERE seq = 2`, OTHER);
    const result = await verify(file);
    t.equal(result.firstBad?.seq, 2);
    t.match(result.firstBad?.reason, /indexed column toMember/);
  });

  t.test('a deleted middle entry', async (t) => {
    const file = await sixEntryStore(dir);
    tamper(file, 'DELETE FROM entries WHERE seq = 3');
    const result = await verify(file);
    t.equal(result.ok, false);
    t.equal(result.entries, 5);
    t.equal(result.firstBad?.seq, 3);
    t.match(result.firstBad?.reason, /missing/);
  });

  t.test('a deleted entry with the later ones renumbered', async (t) => {
    const file = await sixEntryStore(dir);
    tamper(file, 'DELETE FROM entries WHERE seq = 3');
    tamper(file, 'UPDATE entries SET seq = seq - 1 WHERE seq > 3');
    const result = await verify(file);
    t.equal(result.firstBad?.seq, 3);
    t.match(result.firstBad?.reason, /prev_hash/);
  });

  t.test('two entries swapped', async (t) => {
    const file = await sixEntryStore(dir);
    const columns = 'event_id, message_id, event, type, from_member, to_member, actor, at, recorded_at, body, prev_hash, hash';
    const db = new Database(file);
    db.exec('DROP TRIGGER entries_no_update');
    db.transaction(() => {
      const two = db.prepare(`SELECT ${columns} FROM entries WHERE seq = 2`).get() as Record<string, unknown>;
      const four = db.prepare(`SELECT ${columns} FROM entries WHERE seq = 4`).get() as Record<string, unknown>;
      const set = columns.split(', ').map((c) => `${c} = @${c}`).join(', ');
      // event_id is UNIQUE: park one row's id while the other takes it.
      db.prepare(`UPDATE entries SET event_id = 'parked' WHERE seq = 4`).run();
      db.prepare(`UPDATE entries SET ${set} WHERE seq = 2`).run(four);
      db.prepare(`UPDATE entries SET ${set} WHERE seq = 4`).run(two);
    })();
    db.close();
    const result = await verify(file);
    t.equal(result.firstBad?.seq, 2);
    t.match(result.firstBad?.reason, /prev_hash/);
  });

  t.test('the tail deleted after a checkpoint', async (t) => {
    const file = await sixEntryStore(dir);
    tamper(file, 'DELETE FROM entries WHERE seq >= 5');
    const result = await verify(file);
    t.equal(result.ok, false);
    t.equal(result.entries, 4);
    t.equal(result.firstBad?.seq, 5);
    t.match(result.firstBad?.reason, /tail deleted/);
  });

  t.test('an entry edited and the whole chain after it re-hashed', async (t) => {
    const file = await sixEntryStore(dir);
    const db = new Database(file);
    db.exec('DROP TRIGGER entries_no_update');
    const rows = db.prepare('SELECT * FROM entries ORDER BY seq').all() as Record<string, string & number>[];
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const body = row.seq === 5 ? canonicalJson({ ...JSON.parse(row.body), event: 'delivered' }) : row.body;
      const event = row.seq === 5 ? 'delivered' : row.event;
      const hash = entryHash(prev, { seq: row.seq, eventId: row.event_id, at: row.at, recordedAt: row.recorded_at, body });
      db.prepare('UPDATE entries SET body = ?, event = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(body, event, prev, hash, row.seq);
      prev = hash;
    }
    db.close();
    const result = await verify(file);
    t.equal(result.firstBad?.seq, 6, 'the signed checkpoint at 6 no longer matches');
    t.match(result.firstBad?.reason, /entries 5\.\.6 were rewritten/, 'and the checkpoint at 4 bounds where the rewrite began');
  });

  t.test('a forged checkpoint', async (t) => {
    const file = await sixEntryStore(dir);
    const intruder = await PlatformKeystore.ephemeral();
    const store = new AuditStore(file);
    store.appendBatch([busEvent('status')]);
    await store.checkpoint(intruder.signingKey);
    store.close();
    const result = await verify(file);
    t.equal(result.ok, false);
    t.equal(result.firstBad?.seq, 7);
    t.match(result.firstBad?.reason, /signature does not verify/);
  });

  t.test('a checkpoint row edited to cover a rewritten chain', async (t) => {
    const file = await sixEntryStore(dir);
    tamper(file, `UPDATE checkpoints SET hash = ? WHERE seq = 4`, 'f'.repeat(64));
    const result = await verify(file);
    t.equal(result.firstBad?.seq, 4);
    t.match(result.firstBad?.reason, /does not match its signed payload/);
  });

  t.test('the first bad entry wins when there are several', async (t) => {
    const file = await sixEntryStore(dir);
    tamper(file, 'DELETE FROM entries WHERE seq >= 5');
    tamper(file, `UPDATE entries SET actor = 'nobody' WHERE seq = 2`);
    const result = await verify(file);
    t.equal(result.firstBad?.seq, 2);
  });
});
