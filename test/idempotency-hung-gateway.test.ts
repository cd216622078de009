// A gateway that hangs in the middle of a submission with an Idempotency-Key (frozen with
// SIGSTOP while its transaction waits for Kafka) must not hold that key for as long as it hangs:
// the client's retry with the same key on another gateway waits on the key's row, and before the
// fix it waited for ever (each attempt ended 503 after the statement timeout, the next one waited
// again). Now PostgreSQL ends the hung gateway's session once it sits idle in its transaction
// longer than the produce timeout and a statement's worth (LGSP_PRODUCE_TIMEOUT_MS +
// LGSP_DATABASE_STATEMENT_TIMEOUT_MS), and the retry gets through: same id, one delivery. The
// same holds for an inbox acknowledgement caught in the hung gateway's transaction.
import t from 'tap';
import { startTestBus, eventually, serviceProcessEnv } from './helpers/test-bus.js';
import { freeze } from './helpers/frozen-process.js';
import { startServiceProcess } from './helpers/service-process.js';

t.test('a hung gateway does not hold an Idempotency-Key from the client retrying elsewhere', async (t) => {
  const bus = await startTestBus(t, { name: 'hung-gateway', connectors: ['relay', 'document-management'] });
  let thaw: (() => void) | null = null;
  t.teardown(() => thaw?.());
  const instance = `hung-${process.pid}`;
  const { child, url } = await startServiceProcess(t, 'gateway', {
    ...serviceProcessEnv(bus.config),
    LGSP_INSTANCE_ID: instance,
    // The produce waits 1 s (the most allowed) for company: the transaction holding the key
    // sits idle that long, the window in which the gateway is frozen.
    LGSP_PRODUCER_LINGER_MS: '1000',
    LGSP_PRODUCE_TIMEOUT_MS: '6000',
    LGSP_DATABASE_STATEMENT_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'error',
  });

  const client = bus.client('so-tttt-qlvb');
  const token = await client.accessToken();
  const submission = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'CV-HUNG-1', payload: { subject: 'Họp', body: 'Lúc 8 giờ.' } };
  const inTransaction = async () => {
    const r = await bus.db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND state = 'idle in transaction'`, [`lgsp-gateway-${instance}`]);
    return r.rowCount! > 0;
  };
  // Whether another session's open transaction holds the row `lockRow` selects: it is then
  // neither committed nor rolled back, and a lock on it fails at once instead of waiting.
  const rowHeld = async (lockRow: string, values: unknown[]) => {
    try {
      await bus.db.transaction(async (tx) => {
        await tx.query("SET LOCAL lock_timeout = '100ms'");
        await tx.query(lockRow, values);
        throw new Error('not held');
      });
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') return true;
      if ((err as Error).message === 'not held') return false;
      throw err;
    }
    return false;
  };
  // A key row in flight (inserted, not committed) makes an insert of the same key wait on it.
  const keyHeld = (key: string) => rowHeld(
    `INSERT INTO gateway_idempotency (client_id, key, body_digest, message_id, expires_at) VALUES ('so-tttt-qlvb', $1, 'probe', 'probe', now()) ON CONFLICT DO NOTHING`,
    [key],
  );
  // An inbox item whose acknowledgement is in flight is locked by the gateway's update.
  const itemHeld = (id: string) => rowHeld('SELECT 1 FROM document_inbox WHERE id = $1 FOR UPDATE', [id]);
  // Frozen while its transaction waits for the produce, holding `held`. On a loaded machine the
  // SIGSTOP may land outside it: after the transaction ended (seen in CI: the key was already
  // committed, the retry elsewhere answered at once and the thawed gateway's 202 was right), or
  // while another of its sessions sat idle in a transaction and before this one took the row.
  // Whether the stopped gateway holds the row is asked of PostgreSQL itself.
  const freezeHolding = async (held: () => Promise<boolean>) => {
    await eventually(inTransaction, 10_000, 20);
    thaw = freeze([child.pid!]);
    // A COMMIT sent just before the stop may still be on its way: a stopped process sends
    // nothing more, so a row still held a moment later stays held until the thaw.
    await new Promise((r) => setTimeout(r, 300));
    if (await held()) return true;
    thaw();
    thaw = null;
    return false;
  };
  // When the freeze missed, that submission is an ordinary one, not the case under test: it is
  // let finish (delivered) and the case is set up again with a new key.
  let key = '';
  let atHung: Promise<number | string> = Promise.resolve('not sent');
  for (let setup = 1; ; setup++) {
    key = `hung-gateway-key-${setup}`;
    atHung = fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(submission),
    }).then((r) => r.status, () => 'no answer');
    const thisKey = key;
    if (await freezeHolding(() => keyHeld(thisKey))) break;
    t.equal(await atHung, 202, `set-up ${setup}: the freeze missed the transaction; that submission was accepted`);
    await eventually(async () => (bus.simulator.received.get('so-tp-qlvb') ?? []).length === setup, 30_000);
    if (setup === 5) throw new Error('the gateway could not be frozen inside its transaction in 5 tries');
  }
  const deliveredBefore = bus.simulator.attempts.get('so-tp-qlvb') ?? 0;

  // The client gives up on the hung gateway and retries with the same key on the other one.
  const started = Date.now();
  let answer: Awaited<ReturnType<typeof client.send>> | null = null;
  while (Date.now() - started < 40_000) {
    const r = await client.send(submission, key);
    if (r.status === 202) {
      answer = r;
      break;
    }
    t.equal(r.status, 503, `only "try again" while the key is held (${JSON.stringify(r.body)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const waited = Date.now() - started;
  t.ok(answer, `the retry on the other gateway got through (after ${waited} ms)`);
  t.ok(waited < 25_000, `within the hung gateway's idle bound and a statement timeout (${waited} ms)`);

  // Thawed, the hung gateway's request ends without a 202 (its session is gone); its record, if
  // it reaches Kafka, has the same id: the receiver gets the message once.
  thaw!();
  t.not(await atHung, 202, 'the hung gateway does not claim a message it could not record');
  const id = answer!.body.id!;
  await eventually(async () => (await client.status(id)).body.status === 'delivered', 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  // attempts counts every delivery the receiver was handed (received keeps one per id).
  t.equal((bus.simulator.attempts.get('so-tp-qlvb') ?? 0) - deliveredBefore, 1, 'delivered once');
  const again = await client.send(submission, key);
  t.equal(again.status, 202);
  t.equal(again.body.id, id, 'the key answers the same id afterwards');

  // The same for an inbox acknowledgement: the hung gateway holds the item's row while its
  // receipt waits for Kafka; the ack retried on the other gateway gets through.
  const office = bus.client('vp-ubnd-qlvb');
  const officeToken = await office.accessToken();
  let itemId = '';
  let ackAtHung: Promise<number | string> = Promise.resolve('not sent');
  for (let setup = 1; ; setup++) {
    const sent = await client.send({
      type: 'edoc.send',
      to: { member: '000.00.00.H49' },
      payload: {
        header: {
          from: { organId: '000.00.12.H49' },
          to: [{ organId: '000.00.00.H49' }],
          documentId: `000.00.12.H49,2026/12/04,${76 + setup}/STTTT-VP`,
          code: { codeNumber: String(76 + setup), codeNotation: 'STTTT-VP' },
          promulgationInfo: { place: 'Hòa An', promulgationDate: '2026/12/04' },
          documentType: { type: 6, typeName: 'Công văn' },
          subject: 'Kế hoạch (dữ liệu mẫu)',
        },
        traceHeaderList: { bussiness: { bussinessDocType: 0 } },
      },
    }, `hung-gateway-doc-${setup}`);
    t.equal(sent.status, 202, JSON.stringify(sent.body));
    itemId = sent.body.id as string;
    const thisItem = itemId;
    await eventually(async () => (await office.request('GET', `/v1/inbox/${thisItem}`)).status === 200, 30_000);
    ackAtHung = fetch(`${url}/v1/inbox/${itemId}/ack`, { method: 'POST', headers: { authorization: `Bearer ${officeToken}` } }).then((r) => r.status, () => 'no answer');
    if (await freezeHolding(() => itemHeld(thisItem))) break;
    t.equal(await ackAtHung, 200, `set-up ${setup}: the freeze missed the transaction; that acknowledgement went through`);
    if (setup === 5) throw new Error('the gateway could not be frozen inside its acknowledgement in 5 tries');
  }
  const ackStarted = Date.now();
  let acked = false;
  while (Date.now() - ackStarted < 40_000) {
    const r = await office.request('POST', `/v1/inbox/${itemId}/ack`);
    if (r.status === 200) {
      acked = true;
      break;
    }
    t.equal(r.status, 503, `only "try again" while the item is held (${JSON.stringify(r.body)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const ackWaited = Date.now() - ackStarted;
  t.ok(acked, `the ack on the other gateway got through (after ${ackWaited} ms)`);
  t.ok(ackWaited < 25_000, `within the hung gateway's idle bound and a statement timeout (${ackWaited} ms)`);
  thaw!();
  await ackAtHung;
  await eventually(async () => (await client.status(itemId)).body.status === 'delivered', 30_000);
  t.equal((await office.request('GET', `/v1/inbox/${itemId}`)).status, 404, 'acknowledged: gone from the inbox');
});
