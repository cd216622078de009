// A secret echoed in what a connector's health() throws reached GET /v1/connectors/<name>/status
// (`health.detail`, readable by observers) as is: the runtime scrubbed what start(), stop() and
// handle() throw, not health(). The guide promises that secret values in an error message never
// reach a log, a dead letter or the audit trail; the status is read as widely.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConnector } from '../services/runner/connector-loader.js';
import { writeConnectorSource } from './helpers/connector-source.js';

t.test('a secret in what health() throws is scrubbed', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lgsp-health-scrub-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  mkdirSync(join(root, 'connectors', 'vendor-api'), { recursive: true });
  writeConnectorSource(join(root, 'connectors', 'vendor-api', 'index.ts'), `let key = '';
export default {
  name: 'vendor-api',
  secrets: { apiKey: { description: 'API key of the vendor' } },
  async start({ secrets }) { key = secrets.get('apiKey'); },
  async health() { throw new Error('vendor answered 401 for key ' + key); },
  async handle() {},
};
`);
  const loaded = await loadConnector(root, { name: 'vendor-api', entry: 'connectors/vendor-api/index', messageTypes: [] }, {}, { env: { LGSP_SECRET_VENDOR_API_API_KEY: 'vk-4f9a-secret' } });
  await loaded.definition.start!({ secrets: loaded.secrets } as never);
  const err = await loaded.definition.health!().catch((e: Error) => e);
  t.equal((err as Error).message, 'vendor answered 401 for key [secret apiKey]');
  t.notMatch((err as Error).stack ?? '', /vk-4f9a-secret/);
});
