// POST /v1/connectors/<name>/restart re-reads the connector configuration file, as the connector
// guide (§9) and the management API promise: the runner used to read LGSP_CONNECTORS_CONFIG once
// at process start, so a configuration fixed (or broken) in the file was ignored by a restart
// and only a restart of the whole runner took it. Real Kafka and PostgreSQL (the test bus).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBus } from './helpers/test-bus.js';
import { connectorsConfigReader } from '../services/runner/connector-loader.js';

t.test('a connector restart picks up the edited configuration file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-config-reread-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'connectors-config.json');
  writeFileSync(file, JSON.stringify({ relay: { timeoutMs: 5000 } }));
  // What the runner process does with LGSP_CONNECTORS_CONFIG (services/runner/main.ts).
  const bus = await startTestBus(t, { name: 'config-reread', connectorConfig: connectorsConfigReader(file) });
  const operator = await bus.client('lgsp-operator').accessToken();
  const call = async (method: string, path: string) => {
    const r = await fetch(`${bus.runner!.url}${path}`, { method, headers: { authorization: `Bearer ${operator}` } });
    return r.json();
  };
  t.same((await call('GET', '/v1/connectors/relay')).config, { timeoutMs: 5000 }, 'the file as read at start');

  writeFileSync(file, JSON.stringify({ relay: { timeoutMs: 7000 } }));
  const restarted = await call('POST', '/v1/connectors/relay/restart');
  t.equal(restarted.connector.state, 'RUNNING');
  t.same((await call('GET', '/v1/connectors/relay')).config, { timeoutMs: 7000 }, 'the edited value after a restart');

  writeFileSync(file, JSON.stringify({ relay: { timeoutMs: 1 } }));
  const refused = await call('POST', '/v1/connectors/relay/restart');
  t.equal(refused.connector.state, 'FAILED', 'an invalid edit fails the connector on restart');
  t.match(refused.connector.trace, /connector relay: invalid configuration: \/timeoutMs must be >= 100/);

  writeFileSync(file, '{ "relay": ');
  const unreadable = await call('POST', '/v1/connectors/relay/restart');
  t.equal(unreadable.connector.state, 'FAILED', 'so does a file that no longer reads');
  t.match(unreadable.connector.trace, /cannot read LGSP_CONNECTORS_CONFIG/);

  writeFileSync(file, JSON.stringify({ relay: { timeoutMs: 6000 } }));
  const fixed = await call('POST', '/v1/connectors/relay/restart');
  t.equal(fixed.connector.state, 'RUNNING', 'and a fixed file brings it back');
});
