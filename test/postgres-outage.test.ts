// PostgreSQL stopped for 10 s under load, on a server of this test's own: the gateways answer
// 503 with Retry-After (never a 202 they could not stand behind), recover by themselves, and
// every message they accepted — before, during, after — is delivered.
import t from 'tap';
import { startLocalPostgres } from '../services/local-postgres/local-postgres.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { createClientAssertion } from '../services/platform/bus-client.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';

const OUTAGE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('PostgreSQL down for 10 s under load: 503 + Retry-After, recovery, nothing accepted lost', async (t) => {
  const postgres = await startLocalPostgres();
  t.teardown(() => postgres.stop());
  const bus = await startTestBus(t, { name: 'pg-outage', gateways: 2, databaseServer: postgres.url });
  const senders = [bus.client('so-tttt-qlvb', 0), bus.client('so-tttt-qlvb', 1)];
  for (const s of senders) await s.accessToken(); // tokens are cached: issuing one needs the database

  const accepted: string[] = [];
  let acceptedWhileDown = 0;
  const refused: { code: string; retryAfter: string | null; phase: string }[] = [];
  const unexpected: { status: number; body: unknown; phase: string }[] = [];
  let phase = 'before';
  let seq = 0;
  let running = true;
  const worker = async (w: number) => {
    while (running) {
      const n = seq++;
      const startedIn = phase;
      const r = await senders[w % 2]
        .send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: `PG-${n}`, payload: { subject: `Thông báo ${n}`, body: 'Kiểm thử mất kết nối cơ sở dữ liệu.' } })
        .catch((err: Error) => ({ status: 0, headers: new Headers(), body: err.message }));
      if (r.status === 202) {
        accepted.push(r.body.id);
        // Sent and answered while the server was down: the gateway cannot have written the rows.
        if (startedIn === 'down' && phase === 'down') acceptedWhileDown++;
      }
      else if (r.status === 503) refused.push({ code: r.body?.code, retryAfter: r.headers.get('retry-after'), phase });
      else unexpected.push({ status: r.status, body: r.body, phase });
      if (r.status !== 202) await sleep(100);
    }
  };
  const workers = Array.from({ length: 6 }, (_, w) => worker(w));

  // Load established (on a busy machine the first answers take a while) before PostgreSQL goes.
  await eventually(() => accepted.length >= 10, 60_000);
  const beforeOutage = accepted.length;
  // Requests already past their database write when the server goes may still end in 202 (their
  // rows are committed); a request made and answered while it is down must not.
  phase = 'stopping';
  await postgres.stopServer();
  phase = 'down';
  const downSince = Date.now();
  // A token request needs the database too (assertions are single-use): OAuth's own refusal,
  // which client libraries understand, not a problem document.
  const token = await fetch(`${bus.gateway.url}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await createClientAssertion(bus.clients.get('so-tttt-qlvb')!, bus.gateway.url) }),
  });
  const tokenBody = (await token.json()) as { error?: string; error_description?: string };
  // A read had nothing to accept: its refusal says what it could not do.
  const read = await senders[0].request('GET', `/v1/messages/${accepted[0]}`);
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downSince)));
  phase = 'after';
  await postgres.startServer();
  const acceptedAtRestart = accepted.length;
  // Recovery by themselves: 202s again through both gateways within seconds.
  await eventually(() => accepted.length >= acceptedAtRestart + 20, 30_000);
  running = false;
  await Promise.all(workers);

  t.ok(beforeOutage > 0, `accepted before the outage (${beforeOutage})`);
  t.equal(acceptedWhileDown, 0, 'no 202 for a request made and answered while PostgreSQL was down');
  t.ok(refused.length > 0, `${refused.length} requests refused during the outage`);
  t.ok(refused.every((r) => r.code === 'STATE_UNAVAILABLE' && Number(r.retryAfter) > 0), 'every refusal is 503 STATE_UNAVAILABLE with Retry-After');
  t.same(unexpected, [], 'no other answer (no 500, no hang-up)');
  t.equal(token.status, 503, 'a token request while PostgreSQL is down: 503');
  t.equal(tokenBody.error, 'temporarily_unavailable', 'as an OAuth error (RFC 6749 §5.2)');
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, { required?: boolean }>; content?: Record<string, { schema?: { properties?: { error?: { enum?: string[] } } } }> }> }>> };
  t.ok(doc.paths['/v1/token'].post.responses['503'].content?.['application/json']?.schema?.properties?.error?.enum?.includes(tokenBody.error!), 'a code the OpenAPI document lists for the 503 of POST /v1/token');
  t.match(tokenBody.error_description, /PostgreSQL/);
  t.ok(Number(token.headers.get('retry-after')) > 0, 'with Retry-After');
  t.equal(doc.paths['/v1/token'].post.responses['503'].headers?.['Retry-After']?.required, true, 'which the OpenAPI document says every 503 carries');
  t.equal(token.headers.get('cache-control'), 'no-store');
  t.equal(token.headers.get('pragma'), 'no-cache');
  t.equal(read.status, 503, 'a status read while PostgreSQL is down: 503');
  t.match(read.body, { code: 'STATE_UNAVAILABLE', detail: /PostgreSQL.*what you asked for cannot be read now; retry later/ });
  t.notMatch(read.body.detail, /nothing was accepted/, 'not the words of a refused submission');

  // Nothing accepted is lost: every 202 reaches the receiver and its status says so.
  const ids = new Set(accepted);
  const received = await eventually(() => {
    const got = new Set((bus.simulator.received.get('so-tp-qlvb') ?? []).map((m) => m.id));
    return [...ids].every((id) => got.has(id)) ? got : null;
  }, 90_000);
  t.ok([...ids].every((id) => received.has(id)), `all ${ids.size} accepted messages delivered`);
  const last = accepted[accepted.length - 1];
  await eventually(async () => (await senders[1].status(last)).body.status === 'delivered', 60_000);
  const { rows } = await bus.db.query<{ n: number }>('SELECT count(*) AS n FROM console_messages WHERE id = ANY($1::text[])', [[...ids]]);
  t.equal(rows[0].n, ids.size, 'every accepted message is in the shared status table');
});
