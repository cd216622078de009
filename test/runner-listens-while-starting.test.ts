// A runner answers on its HTTP API while its connectors start: a consumer's group join waits out a
// dead predecessor's session (30 s after a kill -9), and a restarted runner answered nothing —
// not /healthz, not the console — for 37–50 s in an operator's drill. Its readiness says which
// connectors are still starting, and turns ready once they run.
import t from 'tap';
import { startRunner } from '../services/runner/runner-service.js';
import { freePort } from '../services/local-processes/free-port.js';
import { eventually } from './helpers/test-bus.js';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'slow-start',
  // Held while a test keeps the gate closed: a start as long as a group join after a crash.
  async start() {
    await globalThis.__slowStartGate;
  },
  async handle() {
    return { detail: { ok: true } };
  },
});
`;

t.test('a runner whose connectors are still starting answers /healthz, and /readyz names them', async (t) => {
  const c = await startInlineConnector(t, 'slow-start', SOURCE);
  let open!: () => void;
  (globalThis as { __slowStartGate?: Promise<void> }).__slowStartGate = new Promise<void>((resolve) => (open = resolve));
  const port = await freePort();
  const starting = startRunner(c.bus.config, { port, connectors: ['slow-start'] });
  t.teardown(async () => {
    open();
    await (await starting).stop();
  });
  const base = `http://127.0.0.1:${port}`;
  const health = await eventually(async () => {
    const r = await fetch(`${base}/healthz`).catch(() => null);
    return r?.status === 200 ? r : null;
  }, 20_000, 100);
  t.equal(health.status, 200, 'alive while its connector starts');
  const ready = await fetch(`${base}/readyz`);
  t.equal(ready.status, 503, 'not ready yet');
  t.match(await ready.json(), { checks: { connectors: { ok: false, detail: 'starting: slow-start' } } });
  open();
  await starting;
  const after = await fetch(`${base}/readyz`);
  t.equal(after.status, 200, 'ready once it runs');
  t.match(await after.json(), { checks: { connectors: { ok: true, detail: '1 running' } } });
});
