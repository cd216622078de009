// Audit store and chain verifier on PostgreSQL: appending, dedupe, checkpoints, queries,
// append-only enforcement, and each kind of tampering an attacker with owner rights on the
// tables (able to switch the triggers off) could try. Each test gets a database of its own.
import pg from 'pg';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import t, { type Test } from 'tap';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import type { BusEvent, BusEventName } from '../services/platform/bus-events.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import {
  AuditStore,
  CHECKPOINT_JWS_TYPE,
  GENESIS_HASH,
  entryHash,
  checkpointPayload,
} from '../services/audit/audit-store.js';
import { canonicalJson } from '../services/platform/canonical-json.js';
import { verifyAuditChain, type VerifyOptions } from '../services/audit/chain-verifier.js';
import { writeSeal } from '../services/audit/verification-seal.js';
import { openDatabase, type Database } from '../services/platform/database.js';
import { createTestDatabase } from './helpers/test-database.js';
import { readModelOffsets } from '../services/platform/read-model-offsets.js';
import { planWithoutSeqScan } from './helpers/query-plan.js';

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

interface AuditDatabase {
  db: Database;
  store: AuditStore;
  /** Runs SQL the way an attacker with owner rights would: with the append-only triggers switched off. */
  tamper(sql: string, ...params: unknown[]): Promise<void>;
  /** Several statements in one transaction, triggers off. */
  tamperWith(fn: (client: pg.Client) => Promise<void>): Promise<void>;
  verify(): ReturnType<typeof verifyAuditChain>;
  /** With the checkpoints published on Kafka and the options of a long chain's check. */
  verifyWith(published: string[] | undefined, opts: VerifyOptions): ReturnType<typeof verifyAuditChain>;
}

const keystorePromise = PlatformKeystore.ephemeral();

async function auditDatabase(t: Test): Promise<AuditDatabase> {
  const database = await createTestDatabase('audit-store');
  const db = await openDatabase(database.url);
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  const keystore = await keystorePromise;
  return {
    db,
    store: new AuditStore(db),
    tamper: (sql, ...params) =>
      tamperWith(async (client) => {
        await client.query(sql, params);
      }),
    tamperWith,
    verify: () => verifyAuditChain(db.pool, keystore.keyResolver(), keystore.publicKeyLookup()),
    verifyWith: (published, opts) => verifyAuditChain(db.pool, keystore.keyResolver(), keystore.publicKeyLookup(), published, opts),
  };
  async function tamperWith(fn: (client: pg.Client) => Promise<void>): Promise<void> {
    const client = new pg.Client(databaseClientConfig(database.url));
    await client.connect();
    try {
      await client.query('SET session_replication_role = replica');
      await client.query('BEGIN');
      await fn(client);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  }
}

/** A store with 6 entries, a checkpoint at seq 4 and one at seq 6. */
async function sixEntryStore(t: Test): Promise<AuditDatabase> {
  const keystore = await keystorePromise;
  const audit = await auditDatabase(t);
  await audit.store.appendBatch([busEvent('accepted'), busEvent('delivery_failed'), busEvent('delivered'), busEvent('accepted')]);
  await audit.store.checkpoint(keystore.signingKey);
  await audit.store.appendBatch([busEvent('delivery_failed'), busEvent('dead_lettered')]);
  await audit.store.checkpoint(keystore.signingKey);
  return audit;
}

/** Entry `edited` made a `delivered`, and the whole chain re-hashed as its owner could. */
async function rewriteAndRehash(tamperWith: AuditDatabase['tamperWith'], edited: number): Promise<void> {
  await tamperWith(async (client) => {
    const rows = (await client.query('SELECT * FROM audit_entries ORDER BY seq')).rows as Record<string, string>[];
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const seq = Number(row.seq);
      const body = seq === edited ? canonicalJson({ ...JSON.parse(row.body), event: 'delivered' }) : row.body;
      const event = seq === edited ? 'delivered' : row.event;
      const hash = entryHash(prev, { seq, eventId: row.event_id, at: row.at, recordedAt: row.recorded_at, body });
      await client.query('UPDATE audit_entries SET body = $1, event = $2, prev_hash = $3, hash = $4 WHERE seq = $5', [body, event, prev, hash, seq]);
      prev = hash;
    }
  });
}

t.test('append builds a hash chain from the genesis hash', async (t) => {
  const { store } = await auditDatabase(t);
  t.equal(await store.head(), null);
  t.equal(await store.count(), 0);

  const events = [busEvent('accepted'), busEvent('delivery_failed'), busEvent('delivered')];
  t.equal(await store.appendBatch(events), 3);
  t.equal(await store.count(), 3);
  const entries = (await store.query()).entries.reverse();
  t.same(entries.map((e) => e.seq), [1, 2, 3]);
  t.equal(entries[0].prevHash, GENESIS_HASH);
  t.equal(entries[1].prevHash, entries[0].hash);
  t.equal(entries[2].prevHash, entries[1].hash);
  t.same(await store.head(), { seq: 3, hash: entries[2].hash });
  t.same(entries[0].event, events[0], 'the body round-trips the event as received');
  t.match(entries[0].hash, /^[0-9a-f]{64}$/);
});

t.test('the documented hash definition reproduces the stored hashes', async (t) => {
  const { db, store } = await auditDatabase(t);
  await store.appendBatch([busEvent('accepted', { detail: { z: 1, a: { y: 'Sở Nội vụ', b: [2, 1] } } })]);
  const row = (await db.query('SELECT * FROM audit_entries WHERE seq = 1')).rows[0] as Record<string, string | number>;
  t.equal(row.body, canonicalJson(JSON.parse(row.body as string)));
  t.match(row.body as string, /"detail":\{"a":\{"b":\[2,1\],"y":"Sở Nội vụ"\},"z":1\}/, 'keys sorted, arrays kept in order');
  const expected = entryHash(GENESIS_HASH, {
    seq: Number(row.seq),
    eventId: row.event_id as string,
    at: row.at as string,
    recordedAt: row.recorded_at as string,
    body: row.body as string,
  });
  t.equal(row.hash, expected);
});

t.test('duplicate event ids are ignored (at-least-once delivery)', async (t) => {
  const { store } = await auditDatabase(t);
  const a = busEvent('accepted');
  const b = busEvent('delivery_failed');
  t.equal(await store.appendBatch([a, b]), 2);
  const headBefore = await store.head();
  t.equal(await store.appendBatch([a, b]), 0, 'a redelivered batch appends nothing');
  t.same(await store.head(), headBefore, 'and leaves the head alone');
  const c = busEvent('delivered');
  t.equal(await store.appendBatch([b, c, c]), 1, 'duplicates within one batch count once');
  t.equal(await store.count(), 3);
  t.same((await store.query()).entries.map((e) => e.event.id), [c.id, b.id, a.id]);
});

t.test('a store appending after its own head writes one statement; another writer sends it the locked way', async (t) => {
  const audit = await auditDatabase(t);
  let statements = 0;
  let transactions = 0;
  // The store's view of the database, counting what it sends outside and inside transactions.
  const counted = new Proxy(audit.db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'query') statements++;
      if (prop === 'transaction') transactions++;
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
  const store = new AuditStore(counted);
  const other = new AuditStore(audit.db);

  t.equal(await store.appendBatch([busEvent('accepted'), busEvent('delivered')]), 2);
  t.same([statements, transactions], [0, 1], 'the first batch: the locked transaction (the head is unknown)');
  t.equal(await store.appendBatch([busEvent('accepted')]), 1);
  t.equal(await store.appendBatch([busEvent('delivered')]), 1);
  t.same([statements, transactions], [2, 1], 'the next batches: one statement each');

  t.equal(await other.appendBatch([busEvent('accepted')]), 1, 'another writer appends (a new audit leader)');
  t.equal(await store.appendBatch([busEvent('delivered')]), 1);
  t.same([statements, transactions], [3, 2], 'its own head is no longer the head: nothing inserted, then the locked way');

  const again = busEvent('accepted');
  t.equal(await store.appendBatch([again]), 1);
  t.equal(await store.appendBatch([again, busEvent('delivered')]), 1, 'a redelivered event in a later batch is still skipped');
  t.same([statements, transactions], [5, 3]);

  const together = await Promise.all([1, 2, 3].map(() => store.appendBatch([busEvent('accepted'), busEvent('delivered')])));
  t.same(together, [2, 2, 2], 'concurrent appends of one store each land whole');
  t.same((await store.query({ limit: 100 })).entries.map((e) => e.seq).reverse(), Array.from({ length: 14 }, (_, i) => i + 1), 'seq 1..14 without gaps');
  t.match(await audit.verify(), { ok: true }, 'the chain verifies');
});

t.test('the consumer\'s offsets are stored with the entries, the fast path still one statement', async (t) => {
  // read_model_offsets says where the audit got to, so a database restored from an older dump
  // reads on from there (restore-catch-up.ts); the offsets ride in the fast path's statement.
  const audit = await auditDatabase(t);
  let statements = 0;
  let transactions = 0;
  const counted = new Proxy(audit.db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'query') statements++;
      if (prop === 'transaction') transactions++;
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
  const store = new AuditStore(counted);
  const stored = async () => (await readModelOffsets(audit.db, 'p-lgsp-audit')).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const applied = (...offsets: Array<[string, number, string]>) => ({ consumer: 'p-lgsp-audit', offsets: offsets.map(([topic, partition, nextOffset]) => ({ topic, partition, nextOffset })) });

  const a = busEvent('accepted');
  t.equal(await store.appendBatch([a, busEvent('delivered')], applied(['events', 0, '2'], ['msg', 1, '7'])), 2);
  t.same([statements, transactions], [0, 1], 'the locked transaction');
  t.same(await stored(), [{ topic: 'events', partition: 0, nextOffset: '2' }, { topic: 'msg', partition: 1, nextOffset: '7' }]);

  t.equal(await store.appendBatch([busEvent('delivered')], applied(['events', 0, '3'])), 1);
  t.same([statements, transactions], [1, 1], 'the fast path: entries and offsets in one statement');
  t.same(await stored(), [{ topic: 'events', partition: 0, nextOffset: '3' }, { topic: 'msg', partition: 1, nextOffset: '7' }]);

  // Another writer moved the head: the fast path inserts nothing, and writes no offset either.
  await new AuditStore(audit.db).appendBatch([busEvent('accepted')]);
  t.equal(await store.appendBatch([busEvent('delivered')], applied(['events', 0, '4'])), 1);
  t.same([statements, transactions], [2, 2], 'the fast path declined, then the locked way');
  t.same((await stored())[0], { topic: 'events', partition: 0, nextOffset: '4' });

  t.equal(await store.appendBatch([a], applied(['msg', 1, '9'])), 0, 'a batch of redeliveries appends nothing');
  t.same((await stored())[1], { topic: 'msg', partition: 1, nextOffset: '9' }, 'and still stores where it ended');
  t.match(await audit.verify(), { ok: true }, 'the chain verifies');
});

t.test('an invalid event is refused and nothing of its batch is appended', async (t) => {
  const { store } = await auditDatabase(t);
  await t.rejects(store.appendBatch([busEvent('accepted'), busEvent('delivery_failed', { at: 'yesterday' })]), TypeError);
  await t.rejects(store.appendBatch([{ ...busEvent('accepted'), id: '' }]), TypeError);
  t.equal(await store.count(), 0);
});

t.test('the store refuses in-place edits (defence in depth)', async (t) => {
  const { db, store } = await auditDatabase(t);
  const keystore = await keystorePromise;
  await store.appendBatch([busEvent('accepted')]);
  await store.checkpoint(keystore.signingKey);
  await t.rejects(db.query(`UPDATE audit_entries SET event = 'delivered'`), /append-only/);
  await t.rejects(db.query('DELETE FROM audit_entries'), /append-only/);
  await t.rejects(db.query('TRUNCATE audit_entries'), /append-only/);
  await t.rejects(db.query(`UPDATE audit_checkpoints SET hash = 'x'`), /append-only/);
  await t.rejects(db.query('DELETE FROM audit_checkpoints'), /append-only/);
  t.equal(await store.count(), 1);
});

t.test('checkpoints sign the chain head only when it moved', async (t) => {
  const keystore = await keystorePromise;
  const { store } = await auditDatabase(t);
  t.equal(await store.checkpoint(keystore.signingKey), null, 'nothing to sign in an empty chain');
  await store.appendBatch([busEvent('accepted'), busEvent('delivery_failed')]);

  const first = await store.checkpoint(keystore.signingKey);
  t.ok(first);
  t.same({ seq: first!.seq, hash: first!.hash }, await store.head());
  t.same(await store.lastCheckpoint(), first);
  const header = decodeProtectedHeader(first!.jws);
  t.same(header, { alg: 'ES256', kid: keystore.signingKey.kid, typ: CHECKPOINT_JWS_TYPE });
  const { payload } = await compactVerify(first!.jws, keystore.keyResolver());
  t.equal(new TextDecoder().decode(payload), checkpointPayload({ seq: 2, hash: first!.hash, at: first!.signedAt }));

  t.equal(await store.checkpoint(keystore.signingKey), null, 'head did not move');
  await store.appendBatch([busEvent('delivered')]);
  const second = await store.checkpoint(keystore.signingKey);
  t.equal(second?.seq, 3);
  t.same(await store.lastCheckpoint(), second);
});

t.test('queries filter by message, member, type, event and time; newest first with a cursor', async (t) => {
  const { store } = await auditDatabase(t);
  const messageA = uuidv7();
  const messageB = uuidv7();
  const events = [
    busEvent('accepted', { messageId: messageA, at: '2026-03-01T01:00:00.000Z' }),
    busEvent('delivery_failed', { messageId: messageA, at: '2026-03-01T02:00:00.000Z' }),
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
  await store.appendBatch(events);
  const ids = async (q: Parameters<AuditStore['query']>[0]) => (await store.query(q)).entries.map((e) => e.seq);

  t.same(await ids({}), [5, 4, 3, 2, 1]);
  t.same(await ids({ messageId: messageA }), [3, 2, 1]);
  t.same(await ids({ member: SENDER }), [4, 3, 2, 1], 'member matches the sender or the receiver');
  t.same(await ids({ member: RECEIVER }), [3, 2, 1]);
  t.same(await ids({ member: OTHER }), [5, 4]);
  t.same(await ids({ type: 'edoc.send' }), [4]);
  t.same(await ids({ type: 'edoc.*' }), [4], 'a family of types');
  t.same(await ids({ type: 'notice.*' }), [3, 2, 1]);
  t.same(await ids({ type: 'no%ice.*' }), [], 'a % in a family is a character, not a wildcard');
  t.same(await ids({ event: 'accepted' }), [4, 1]);
  t.same(await ids({ event: 'accepted', member: RECEIVER }), [1], 'filters combine');
  t.same(await ids({ from: '2026-03-01T02:00:00Z' }), [5, 4, 3, 2], 'from is inclusive');
  t.same(await ids({ to: '2026-03-01T03:00:00Z' }), [2, 1], 'to is exclusive');
  t.same(await ids({ from: '2026-03-01T18:00:00Z', to: '2026-03-01T18:00:00.001Z' }), [4], 'offsets are normalised to UTC');
  t.same(await ids({ from: '2026-03-02', to: '2026-03-04' }), [5]);
  await t.rejects(store.query({ from: 'not a time' }), RangeError);

  const page1 = await store.query({ limit: 2 });
  t.same(page1.entries.map((e) => e.seq), [5, 4]);
  t.equal(page1.nextBefore, 4);
  const page2 = await store.query({ limit: 2, before: page1.nextBefore! });
  t.same(page2.entries.map((e) => e.seq), [3, 2]);
  const page3 = await store.query({ limit: 2, before: page2.nextBefore! });
  t.same(page3.entries.map((e) => e.seq), [1]);
  t.equal(page3.nextBefore, null, 'the last page has no cursor');
  t.equal((await store.query({ limit: 5 })).nextBefore, null);

  await store.appendBatch(Array.from({ length: 1100 }, () => busEvent('delivery_failed')));
  t.equal((await store.query({ limit: 5000 })).entries.length, 1000, 'limit is capped at 1000');
  t.equal((await store.query()).entries.length, 100, 'default limit 100');
});

t.test('a search by time uses the time index, whatever the database\'s collation', async (t) => {
  const { db, store } = await auditDatabase(t);
  await store.appendBatch(Array.from({ length: 50 }, (_, i) => busEvent('accepted', { at: new Date(Date.UTC(2026, 2, 1, 0, i)).toISOString() })));
  // The store compares `at` bytewise (COLLATE "C"); an index built with the database's own
  // collation (C.UTF-8 on the test server) cannot serve that, and the search read the whole table.
  const plan = await planWithoutSeqScan(db, 'SELECT seq FROM audit_entries WHERE at COLLATE "C" >= $1 AND at COLLATE "C" < $2', ['2026-03-01T00:10:00.000Z', '2026-03-01T00:20:00.000Z']);
  t.match(plan, /"Index Name":"audit_entries_by_at"/, 'the time range is read through audit_entries_by_at');
  t.match(plan, /"Index Cond":/, 'as an index condition, not a filter over every entry');
  t.same((await store.query({ from: '2026-03-01T00:10:00Z', to: '2026-03-01T00:13:00Z' })).entries.map((e) => e.event.at), [
    '2026-03-01T00:12:00.000Z', '2026-03-01T00:11:00.000Z', '2026-03-01T00:10:00.000Z',
  ]);
});

t.test('a search by message finds the operator actions taken on it (a replay\'s intent and refusal)', async (t) => {
  const audit = await auditDatabase(t);
  const { db, store } = audit;
  const message = uuidv7();
  const operatorAction = (detail: Record<string, unknown>) => busEvent('operator_action', { messageId: undefined, type: undefined, from: undefined, to: undefined, actor: 'console/lgsp-operator', detail });
  await store.appendBatch([
    busEvent('dead_lettered', { messageId: message }),
    operatorAction({ action: 'replay', deadLetterId: 7, messageId: message, connector: 'relay' }),
    busEvent('replayed', { messageId: message }),
    operatorAction({ action: 'replay', deadLetterId: 7, messageId: message, outcome: 'failed', status: 409 }),
    operatorAction({ action: 'replay', deadLetterId: 8, messageId: uuidv7(), connector: 'relay' }),
    operatorAction({ action: 'connector_pause', connector: 'relay' }),
    busEvent('accepted'),
  ]);
  const found = (await store.query({ messageId: message })).entries.map((e) => `${e.seq} ${e.event.event}`);
  t.same(found, ['4 operator_action', '3 replayed', '2 operator_action', '1 dead_lettered'], 'the message\'s steps and the actions on it, nothing else');
  t.same((await store.query({ messageId: message, event: 'operator_action' })).entries.map((e) => e.seq), [4, 2]);
  const plan = await planWithoutSeqScan(db, `SELECT seq FROM audit_entries WHERE (message_id = $1 OR (event = 'operator_action' AND (body::json -> 'detail' ->> 'messageId') = $1))`, [message]);
  t.match(plan, /"Index Name":"audit_entries_action_by_message"/, 'the actions are found through their index, not by reading every entry');
  t.match(await audit.verify(), { ok: true }, 'the chain verifies: the index is beside the chain, not in it');
});

t.test('verification of an untouched store', async (t) => {
  const six = await sixEntryStore(t);
  t.same(await six.verify(), { ok: true, entries: 6, checkpoints: 2, signedThrough: 6, scope: 'full' });

  const empty = await auditDatabase(t);
  t.same(await empty.verify(), { ok: true, entries: 0, checkpoints: 0, signedThrough: 0, scope: 'full' });

  await six.store.appendBatch([busEvent('status')]);
  t.same(await six.verify(), { ok: true, entries: 7, checkpoints: 2, signedThrough: 6, scope: 'full' });
});

t.test('tampering is detected and the first bad entry named', async (t) => {

  t.test('an edited body', async (t) => {
    const { db, tamper, verify } = await sixEntryStore(t);
    const row = (await db.query('SELECT body FROM audit_entries WHERE seq = 3')).rows[0] as { body: string };
    const edited = canonicalJson({ ...JSON.parse(row.body), event: 'dead_lettered' });
    await tamper('UPDATE audit_entries SET body = $1 WHERE seq = 3', edited);
    const result = await verify();
    t.equal(result.ok, false);
    t.equal(result.firstBad?.seq, 3);
    t.match(result.firstBad?.reason, /hash mismatch/);
  });

  t.test('an edited indexed column', async (t) => {
    const { tamper, verify } = await sixEntryStore(t);
    await tamper(`UPDATE audit_entries SET to_member = $1 WHERE seq = 2`, OTHER);
    const result = await verify();
    t.equal(result.firstBad?.seq, 2);
    t.match(result.firstBad?.reason, /indexed column toMember/);
  });

  t.test('a deleted middle entry', async (t) => {
    const { tamper, verify } = await sixEntryStore(t);
    await tamper('DELETE FROM audit_entries WHERE seq = 3');
    const result = await verify();
    t.equal(result.ok, false);
    t.equal(result.entries, 5);
    t.equal(result.firstBad?.seq, 3);
    t.match(result.firstBad?.reason, /missing/);
  });

  t.test('a deleted entry with the later ones renumbered', async (t) => {
    const { tamper, verify } = await sixEntryStore(t);
    await tamper('DELETE FROM audit_entries WHERE seq = 3');
    // Two steps: seq is the primary key, so shift through negative numbers.
    await tamper('UPDATE audit_entries SET seq = -seq WHERE seq > 3');
    await tamper('UPDATE audit_entries SET seq = -seq - 1 WHERE seq < 0');
    const result = await verify();
    t.equal(result.firstBad?.seq, 3);
    t.match(result.firstBad?.reason, /prev_hash/);
  });

  t.test('two entries swapped', async (t) => {
    const { tamperWith, verify } = await sixEntryStore(t);
    const columns = 'event_id, message_id, event, type, from_member, to_member, actor, at, recorded_at, body, prev_hash, hash'.split(', ');
    await tamperWith(async (client) => {
      const row = async (seq: number) => (await client.query(`SELECT ${columns.join(', ')} FROM audit_entries WHERE seq = $1`, [seq])).rows[0] as Record<string, unknown>;
      const two = await row(2);
      const four = await row(4);
      const set = columns.map((c, i) => `${c} = $${i + 2}`).join(', ');
      // event_id is UNIQUE: park one row's id while the other takes it.
      await client.query(`UPDATE audit_entries SET event_id = 'parked' WHERE seq = 4`);
      await client.query(`UPDATE audit_entries SET ${set} WHERE seq = $1`, [2, ...columns.map((c) => four[c])]);
      await client.query(`UPDATE audit_entries SET ${set} WHERE seq = $1`, [4, ...columns.map((c) => two[c])]);
    });
    const result = await verify();
    t.equal(result.firstBad?.seq, 2);
    t.match(result.firstBad?.reason, /prev_hash/);
  });

  t.test('the tail deleted after a checkpoint', async (t) => {
    const { tamper, verify } = await sixEntryStore(t);
    await tamper('DELETE FROM audit_entries WHERE seq >= 5');
    const result = await verify();
    t.equal(result.ok, false);
    t.equal(result.entries, 4);
    t.equal(result.firstBad?.seq, 5);
    t.match(result.firstBad?.reason, /tail deleted/);
  });

  t.test('an entry edited and the whole chain after it re-hashed', async (t) => {
    const { tamperWith, verify } = await sixEntryStore(t);
    await rewriteAndRehash(tamperWith, 5);
    const result = await verify();
    t.equal(result.firstBad?.seq, 6, 'the signed checkpoint at 6 no longer matches');
    t.match(result.firstBad?.reason, /entries 5\.\.6 were rewritten/, 'and the checkpoint at 4 bounds where the rewrite began');
  });

  t.test('a forged checkpoint', async (t) => {
    const { store, verify } = await sixEntryStore(t);
    const intruder = await PlatformKeystore.ephemeral();
    await store.appendBatch([busEvent('status')]);
    await store.checkpoint(intruder.signingKey);
    const result = await verify();
    t.equal(result.ok, false);
    t.equal(result.firstBad?.seq, 7);
    t.match(result.firstBad?.reason, /signature does not verify/);
  });

  t.test('a checkpoint row edited to cover a rewritten chain', async (t) => {
    const { tamper, verify } = await sixEntryStore(t);
    await tamper(`UPDATE audit_checkpoints SET hash = $1 WHERE seq = 4`, 'f'.repeat(64));
    const result = await verify();
    t.equal(result.firstBad?.seq, 4);
    t.match(result.firstBad?.reason, /does not match its signed payload/);
  });

  t.test('the first bad entry wins when there are several', async (t) => {
    const { tamper, verify } = await sixEntryStore(t);
    await tamper('DELETE FROM audit_entries WHERE seq >= 5');
    await tamper(`UPDATE audit_entries SET actor = 'nobody' WHERE seq = 2`);
    const result = await verify();
    t.equal(result.firstBad?.seq, 2);
  });
});

/**
 * sixEntryStore, a full pass sealed at seq 6, then two more entries signed by a checkpoint at 8;
 * `quick` verifies it as a chain longer than the full-verification limit (3 entries).
 */
async function sealedStore(t: Test) {
  const keystore = await keystorePromise;
  const audit = await sixEntryStore(t);
  const sealed: number[] = [];
  const full = await audit.verifyWith(undefined, { onIntact: async (reached) => void sealed.push((await writeSeal(audit.db, keystore.signingKey, { ...reached, publishedOffset: '0' })).seq) });
  t.equal(full.scope, 'full');
  t.same(sealed, [6], 'an intact full pass is handed over to be sealed');
  await audit.store.appendBatch([busEvent('accepted'), busEvent('delivered')]);
  await audit.store.checkpoint(keystore.signingKey);
  const quick = (published?: string[]) => audit.verifyWith(published, { fullUpTo: 3, onIntact: async () => void t.fail('only a full pass is sealed') });
  return { ...audit, quick };
}

t.test('a chain longer than the full-verification limit is verified from the seal of its last full pass', async (t) => {
  t.test('untouched: the entries after the seal, the rest standing on it', async (t) => {
    const { quick, db, verifyWith } = await sealedStore(t);
    const result = await quick();
    t.same(result, { ok: true, entries: 8, checkpoints: 3, signedThrough: 8, scope: 'since-seal', sealed: { seq: 6, at: result.sealed?.at } });
    t.match(result.sealed?.at, /^\d{4}-\d\d-\d\dT/, 'when the sealed pass was made');
    const short = await verifyWith(undefined, { fullUpTo: 8 });
    t.equal(short.scope, 'full', 'a chain within the limit is read in full');
    // The published copies within the seal are not verified again; those after it are.
    const jws = (await db.query('SELECT jws FROM audit_checkpoints ORDER BY id')).rows.map((r) => (r as { jws: string }).jws);
    t.same((await quick(jws)).published, { checked: 1, ignored: 0, sealed: 2 });
  });

  t.test('an entry after the seal edited', async (t) => {
    const { db, tamper, quick } = await sealedStore(t);
    const row = (await db.query('SELECT body FROM audit_entries WHERE seq = 7')).rows[0] as { body: string };
    await tamper('UPDATE audit_entries SET body = $1 WHERE seq = 7', canonicalJson({ ...JSON.parse(row.body), event: 'dead_lettered' }));
    const result = await quick();
    t.match(result, { ok: false, scope: 'since-seal', firstBad: { seq: 7, reason: /hash mismatch/ } });
  });

  t.test('an entry before the seal edited in place, its hash kept: only a full pass sees it', async (t) => {
    const { db, tamper, quick, verify } = await sealedStore(t);
    const row = (await db.query('SELECT body FROM audit_entries WHERE seq = 3')).rows[0] as { body: string };
    await tamper('UPDATE audit_entries SET body = $1 WHERE seq = 3', canonicalJson({ ...JSON.parse(row.body), event: 'dead_lettered' }));
    t.match(await quick(), { ok: true, scope: 'since-seal' }, 'what the seal covers is not read again');
    t.match(await verify(), { ok: false, scope: 'full', firstBad: { seq: 3, reason: /hash mismatch/ } });
  });

  t.test('an entry before the seal edited and the chain re-hashed: the seal no longer holds, the check reads it all', async (t) => {
    const { tamperWith, quick } = await sealedStore(t);
    await rewriteAndRehash(tamperWith, 5);
    const result = await quick();
    t.match(result, { ok: false, scope: 'full', firstBad: { seq: 6, reason: /entries 5\.\.6 were rewritten/ } });
  });

  t.test('an entry before the seal deleted: the seal no longer holds', async (t) => {
    const { tamper, quick } = await sealedStore(t);
    await tamper('DELETE FROM audit_entries WHERE seq = 3');
    t.match(await quick(), { ok: false, scope: 'full', entries: 7, firstBad: { seq: 3, reason: /missing/ } });
  });

  t.test('a seal forged with another key is not started from, and is named', async (t) => {
    const { db, quick } = await sealedStore(t);
    const intruder = await PlatformKeystore.ephemeral();
    await writeSeal(db, intruder.signingKey, { seq: 8, hash: (await db.query('SELECT hash FROM audit_entries WHERE seq = 8')).rows[0].hash as string, checkpointId: 3, publishedOffset: '0' });
    t.match(await quick(), { ok: false, scope: 'full', firstBad: { seq: 8, reason: /seal signature does not verify.*seal row 2/ } });
  });

  t.test('a seal row edited to cover a rewritten chain', async (t) => {
    const { tamper, verify } = await sealedStore(t);
    await tamper(`UPDATE audit_seals SET hash = $1`, 'f'.repeat(64));
    t.match(await verify(), { ok: false, firstBad: { seq: 6, reason: /seal row does not match its signed payload/ } });
  });
});
