// A connector restart does not import a module that imported fine again (Node keeps it, and the
// modules it imports), so after `npm run build` the connector kept running its old code while
// GET …/status and the restart's answer looked like a fresh start. The status now says that the
// entry file changed after the runner imported it and that the runner must be restarted; the
// guide's §9 says the same. Real Kafka and PostgreSQL (the test bus).
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestBus } from './helpers/test-bus.js';
import { writeConnectorSource } from './helpers/connector-source.js';

const SDK = fileURLToPath(new URL('../connectors/sdk/index.js', import.meta.url));

function write(file: string, content: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

const module = (version: number) => `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'rebuilt',
  async health() { return { ok: true, detail: 'version ${version}' }; },
  async handle() { return { detail: { version: ${version} } }; },
});
`;

t.test('the status says when the connector runs code older than its entry file', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lgsp-rebuilt-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  write(join(root, 'package.json'), { type: 'module', private: true });
  const dir = join(root, 'connectors');
  write(join(dir, 'rebuilt', 'connector.json'), { name: 'rebuilt', entry: './index', messageTypes: [{ type: 'rebuilt.ping', schema: './schemas/rebuilt.ping.schema.json' }] });
  write(join(dir, 'rebuilt', 'schemas', 'rebuilt.ping.schema.json'), {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://lgsp.example.gov.vn/schemas/messages/rebuilt.ping.schema.json',
    type: 'object',
    additionalProperties: false,
    properties: { text: { type: 'string' } },
    examples: [{ text: 'ping' }],
  });
  const source = join(dir, 'rebuilt', 'index.ts');
  const entry = writeConnectorSource(source, module(1));

  const bus = await startTestBus(t, { name: 'rebuilt-module', connectors: ['rebuilt'], config: { connectorDirs: [dir] } });
  const operator = await bus.client('lgsp-operator').accessToken();
  const call = async (method: string, path: string) => {
    const r = await fetch(`${bus.runner!.url}${path}`, { method, headers: { authorization: `Bearer ${operator}` } });
    return r.json();
  };
  const first = await call('GET', '/v1/connectors/rebuilt/status');
  t.equal(first.connector.state, 'RUNNING');
  t.equal(first.codeChanged, null, 'nothing to say while the file is the one imported');
  t.same(first.health, { ok: true, detail: 'version 1' });

  // A rebuild: new code in the entry file, with a later modification time.
  writeConnectorSource(source, module(2));
  const later = new Date(Date.now() + 5_000);
  utimesSync(entry, later, later);
  const restarted = await call('POST', '/v1/connectors/rebuilt/restart');
  t.equal(restarted.connector.state, 'RUNNING');
  t.same(restarted.health, { ok: true, detail: 'version 1' }, 'a connector restart keeps the code imported first');
  t.match(restarted.codeChanged, /index\.js changed after the runner imported it: .*restart the runner to run the new build/, 'and its answer says so');
  t.match((await call('GET', '/v1/connectors/rebuilt/status')).codeChanged, /restart the runner/, 'as the status does');
});
