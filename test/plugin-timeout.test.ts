// A service whose plugins load slowly (a saturated machine) comes up late instead of failing its
// start on Fastify's 10 s plugin timeout and crash-looping under its supervisor.
import t from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import { PLUGIN_TIMEOUT_MS } from '../services/platform/plugin-timeout.js';
import { startTestBus } from './helpers/test-bus.js';

const FASTIFY_DEFAULT_PLUGIN_TIMEOUT_MS = 10_000;
const SLOW_PLUGIN_MS = FASTIFY_DEFAULT_PLUGIN_TIMEOUT_MS + 500;

async function readyWithSlowPlugin(app: FastifyInstance): Promise<{ ok: boolean; code?: string; ms: number }> {
  const started = Date.now();
  try {
    // Awaiting register loads the plugin (as the services do), so a timeout surfaces here.
    await app.register(async () => {
      await new Promise((resolve) => setTimeout(resolve, SLOW_PLUGIN_MS));
    });
    await app.ready();
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code, ms: Date.now() - started };
  } finally {
    await app.close().catch(() => undefined);
  }
}

t.test('a plugin slower than Fastify\'s default loads under the services\' plugin timeout', async (t) => {
  t.ok(PLUGIN_TIMEOUT_MS > SLOW_PLUGIN_MS, `services allow ${PLUGIN_TIMEOUT_MS} ms`);
  // Both at once: the control shows the same plugin fails with Fastify's default.
  const [withDefault, withServiceTimeout] = await Promise.all([
    readyWithSlowPlugin(Fastify()),
    readyWithSlowPlugin(Fastify({ pluginTimeout: PLUGIN_TIMEOUT_MS })),
  ]);
  t.match(withDefault, { ok: false, code: 'AVV_ERR_PLUGIN_EXEC_TIMEOUT' }, 'Fastify\'s default gives up');
  t.match(withServiceTimeout, { ok: true }, `loaded after ${withServiceTimeout.ms} ms`);
  t.ok(withServiceTimeout.ms >= SLOW_PLUGIN_MS - 50, 'it did wait for the slow plugin');
});

t.test('the gateway and the runner are built with it', async (t) => {
  const bus = await startTestBus(t, { name: 'plugin-timeout' });
  t.equal(bus.gateway.app.initialConfig.pluginTimeout, PLUGIN_TIMEOUT_MS, 'gateway');
  t.equal(bus.runner!.app.initialConfig.pluginTimeout, PLUGIN_TIMEOUT_MS, 'runner');
});
