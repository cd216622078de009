// Connector discovery and loading, without Kafka: connectors from extra directories and from
// packages (by path and by npm name), manifests and schemas validated all-or-nothing, a broken
// connector reported with its reason while the others load, import failures that a restart can
// recover from, secrets from the environment or a file and scrubbed from errors, connector
// metrics on prom-client, message-type schemas as OpenAPI components, scaffolder refusals.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry as PromRegistry } from 'prom-client';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { manifestInPackage } from '../services/platform/connector-discovery.js';
import { entryPath, loadConnector } from '../services/runner/connector-loader.js';
import { prometheusConnectorMetrics } from '../services/runner/connector-metrics.js';
import { messageTypeComponents } from '../services/gateway/openapi-message-types.js';
import { scaffoldConnector } from '../services/cli/connector-scaffold.js';
import { runConnectorCommand } from '../services/cli/connector-command.js';
import { loadConfig } from '../services/platform/config.js';
import { writeConnectorSource } from './helpers/connector-source.js';

// The registry decides which connector owns a message type two connectors declare.
const SEED_REGISTRY = fileURLToPath(new URL('../seeds/registry.json', import.meta.url));
const SDK = fileURLToPath(new URL('../connectors/sdk/index.js', import.meta.url));

function write(file: string, content: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

function pingSchema(type: string, example: unknown = { text: 'xin chào' }) {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://lgsp.example.gov.vn/schemas/messages/${type}.schema.json`,
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: { text: { type: 'string', minLength: 1 } },
    examples: [example],
  };
}

function connectorFolder(dir: string, name: string, type: string, moduleSource: string, schema: unknown = pingSchema(type)): void {
  write(join(dir, name, 'connector.json'), { name, entry: './index', messageTypes: [{ type, schema: `./schemas/${type}.schema.json` }] });
  write(join(dir, name, 'schemas', `${type}.schema.json`), schema);
  writeConnectorSource(join(dir, name, 'index.ts'), moduleSource);
}

const goodModule = (name: string) => `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: '${name}',
  configSchema: { type: 'object', additionalProperties: false, properties: { level: { type: 'integer', default: 3 } } },
  secrets: { token: { description: 'target token' } },
  async handle(message, ctx) {
    throw new Error('target refused token ' + ctx.secrets.get('token') + ' for ' + message.id);
  },
});
`;

const root = mkdtempSync(join(tmpdir(), 'lgsp-discovery-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
// ESM like the project, so connector modules here load the way the runner loads its own.
write(join(root, 'package.json'), { type: 'module', private: true });
const dir = join(root, 'connectors');
connectorFolder(dir, 'good-one', 'good.ping', goodModule('good-one'));
write(join(dir, 'bad-json', 'connector.json'), '{ "name": "bad-json", ');
connectorFolder(dir, 'bad-example', 'bad.example', goodModule('bad-example'), pingSchema('bad.example', { text: '' }));
connectorFolder(dir, 'dup-type', 'notice.send', goodModule('dup-type'), pingSchema('dup.notice'));
connectorFolder(dir, 'loose-schema', 'loose.ping', goodModule('loose-schema'), { ...pingSchema('loose.ping'), additionalProperties: undefined });
write(join(dir, 'dup-name', 'connector.json'), { name: 'relay', entry: './index', messageTypes: [] });
write(join(dir, 'missing-schema', 'connector.json'), { name: 'missing-schema', entry: './index', messageTypes: [{ type: 'missing.schema', schema: './nowhere.json' }] });
write(join(dir, 'invalid-manifest', 'connector.json'), { name: 'invalid-manifest', messageTypes: [] });
connectorFolder(dir, 'throws-on-import', 'import.fails', `throw new Error('module top level exploded');\n`);
mkdirSync(join(dir, 'not-a-connector'));

const pkgHome = join(root, 'app');
const pkg = join(pkgHome, 'node_modules', '@demo', 'lgsp-forecast');
write(join(pkg, 'package.json'), { name: '@demo/lgsp-forecast', version: '1.0.0', type: 'module' });
write(join(pkg, 'connector.json'), { name: 'forecast', entry: './dist/index.mjs', messageTypes: [{ type: 'forecast.issued', schema: './schemas/forecast.issued.schema.json' }] });
write(join(pkg, 'schemas', 'forecast.issued.schema.json'), pingSchema('forecast.issued', { text: 'Cảnh báo mưa lớn' }));
write(join(pkg, 'dist', 'index.mjs'), `export default { name: 'forecast', async handle() { return { detail: { forecast: 'mưa' } }; } };\n`);

t.test('a catalogue loads what it can and reports each broken connector with its reason', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir, dir], registryFile: SEED_REGISTRY, connectorPackages: [pkg, join(root, 'nowhere'), 'not-installed-lgsp-connector', 'Bad Name!'] });
  const names = catalogue.manifests.map((m) => m.name);
  t.ok(names.includes('relay'), 'the project connectors still load');
  t.ok(names.includes('good-one') && names.includes('throws-on-import'), 'valid manifests load (importing is the runner\'s business)');
  t.ok(names.includes('forecast'), 'the package connector loads');
  t.equal(names.filter((n) => n === 'good-one').length, 1, 'a directory listed twice is read once');
  const failed = Object.fromEntries(catalogue.failedManifests.map((f) => [f.name, f.error]));
  t.match(failed['bad-json'], /cannot read .*connector\.json/);
  t.match(failed['bad-example'], /example 1 of bad\.example does not match its own schema: \/text must NOT have fewer than 1 characters/);
  t.match(failed['dup-type'], /message type notice\.send is already declared by connector relay, which the registry names for it/);
  t.match(failed['loose-schema'], /schema of loose\.ping must set "additionalProperties": false/);
  t.notOk(catalogue.messageTypes.has('loose.ping'), 'a schema that lets unknown fields through is refused');
  t.match(failed.relay, /the name is already taken/);
  t.match(failed['missing-schema'], /schema of missing\.schema \(\.\/nowhere\.json\): ENOENT/);
  t.match(failed['invalid-manifest'], /connector\.json of invalid-manifest is invalid: \(root\) must have required property 'entry'/);
  t.match(failed[join(root, 'nowhere')], /connector package directory .*nowhere does not exist/);
  t.match(failed['not-installed-lgsp-connector'], /is not installed \(npm install not-installed-lgsp-connector/);
  t.match(failed['Bad Name!'], /neither an npm package name nor a path/);
  t.notOk(catalogue.ajv.getSchema('https://lgsp.example.gov.vn/schemas/messages/bad.example.schema.json'), 'a refused manifest leaves no schema behind');
  t.notOk(catalogue.messageTypes.has('bad.example'));
  t.equal(catalogue.messageTypes.get('notice.send')?.connector, 'relay', 'a clash does not steal a type');

  const validate = catalogue.payloadValidator('good.ping')!;
  t.ok(validate({ text: 'ok' }));
  t.notOk(validate({ text: 'ok', extra: 1 }), 'connector schemas validate payloads at the gateway');
  t.ok(catalogue.payloadValidator('forecast.issued')!({ text: 'mưa' }));
  const good = catalogue.manifests.find((m) => m.name === 'good-one')!;
  t.equal(good.entry, join('connectors', 'good-one', 'index'), './ entry made relative to the project-like base');
  t.equal(good.baseDir, root);
  t.equal(catalogue.manifests.find((m) => m.name === 'forecast')!.entry, join(pkg, 'dist', 'index.mjs'), 'an entry with an extension is used as written');
});

t.test('a message type two connectors declare goes to the one the registry names, whatever the folder order', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'lgsp-owner-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const connectors = join(scratch, 'connectors');
  // "a-newcomer" sorts before "storm-warning": first-come would hand it the running connector's type.
  connectorFolder(connectors, 'a-newcomer', 'storm.alert', goodModule('a-newcomer'), pingSchema('storm.alert.newcomer'));
  connectorFolder(connectors, 'storm-warning', 'storm.alert', goodModule('storm-warning'), pingSchema('storm.alert'));
  const registryFile = join(scratch, 'registry.json');
  write(registryFile, { services: [{ code: 'storm', provider: 'P', system: 's', connector: 'storm-warning', messageTypes: ['storm.alert'] }] });

  const decided = new SchemaCatalogue().loadConnectors({ connectorDirs: [connectors], registryFile });
  t.equal(decided.messageTypes.get('storm.alert')?.connector, 'storm-warning', 'the registry\'s connector keeps its type');
  t.same(decided.manifests.filter((m) => m.source === connectors).map((m) => m.name), ['storm-warning']);
  t.match(decided.failedManifests.find((f) => f.name === 'a-newcomer')?.error, /message type storm\.alert is already declared by connector storm-warning, which the registry names for it/);

  for (const [label, file] of [['no registry', undefined], ['a registry naming neither', join(scratch, 'other.json')]] as const) {
    if (file) write(file, { services: [{ code: 'storm', provider: 'P', system: 's', connector: 'relay', messageTypes: ['storm.alert'] }] });
    const undecided = new SchemaCatalogue().loadConnectors({ connectorDirs: [connectors], registryFile: file });
    t.notOk(undecided.messageTypes.has('storm.alert'), `${label}: nobody gets the type, so the gateway does not accept what nobody delivers`);
    const errors = Object.fromEntries(undecided.failedManifests.map((f) => [f.name, f.error]));
    t.match(errors['a-newcomer'], /storm\.alert is also declared by connector storm-warning and .*a message type belongs to one connector/, label);
    t.match(errors['storm-warning'], /storm\.alert is also declared by connector a-newcomer/, label);
    t.ok(undecided.messageTypes.has('notice.send'), `${label}: uncontested connectors load as before`);
  }
  t.match(new SchemaCatalogue().loadConnectors({ connectorDirs: [connectors], registryFile: join(scratch, 'other.json') }).failedManifests[0].error, /registry's services carrying it name relay/);
});

t.test('packages by npm name are found in node_modules upwards', async (t) => {
  const found = manifestInPackage('@demo/lgsp-forecast', join(pkgHome, 'sub', 'dir'));
  t.notOk(found.error, found.error ?? 'no error');
  t.equal(found.name, 'forecast');
  t.equal(found.origin.source, 'package @demo/lgsp-forecast');
  write(join(pkgHome, 'node_modules', 'empty-pkg', 'package.json'), { name: 'empty-pkg' });
  t.match(manifestInPackage('empty-pkg', pkgHome).error, /has no connector\.json at its root/);
  const config = loadConfig({}, { LGSP_CONNECTOR_PACKAGES: 'a, @b/c', LGSP_CONNECTOR_DIRS: '/x,/y', LGSP_CONNECTOR_START_TIMEOUT_MS: '500' });
  t.same(config.connectorPackages, ['a', '@b/c']);
  t.same(config.connectorDirs, ['/x', '/y']);
  t.equal(config.connectorStartTimeoutMs, 500);
});

t.test('loading: configuration, secrets from env or file, scrubbed errors, import failures recoverable', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir], connectorPackages: [pkg], registryFile: SEED_REGISTRY });
  const manifest = (name: string) => catalogue.manifests.find((m) => m.name === name)!;
  t.equal(entryPath(root, 'connectors/good-one/index'), join(root, 'dist', 'connectors', 'good-one', 'index.js'), 'from the build, as the runner runs from dist/');

  await t.rejects(loadConnector(catalogue.root, manifest('good-one'), {}, { env: {} }), /connector good-one: missing secret: token \(set LGSP_SECRET_GOOD_ONE_TOKEN or LGSP_SECRET_GOOD_ONE_TOKEN_FILE\)/);
  await t.rejects(loadConnector(catalogue.root, manifest('good-one'), { level: 'high' }, { env: { LGSP_SECRET_GOOD_ONE_TOKEN: 'x' } }), /connector good-one: invalid configuration: \/level must be integer/);
  const secretFile = join(root, 'token.txt');
  writeFileSync(secretFile, 'file-secret-123\n');
  await t.rejects(loadConnector(catalogue.root, manifest('good-one'), {}, { env: { LGSP_SECRET_GOOD_ONE_TOKEN_FILE: join(root, 'absent') } }), /cannot read LGSP_SECRET_GOOD_ONE_TOKEN_FILE \(ENOENT\)/);
  const loaded = await loadConnector(catalogue.root, manifest('good-one'), {}, { env: { LGSP_SECRET_GOOD_ONE_TOKEN_FILE: secretFile } });
  t.same(loaded.config, { level: 3 });
  t.equal(loaded.secrets!.get('token'), 'file-secret-123', 'read from the _FILE, trailing newline dropped');
  const ctx = { secrets: loaded.secrets, metrics: loaded.metrics } as never;
  const err = await loaded.definition.handle({ id: 'm-1' } as never, ctx).catch((e: Error) => e);
  t.equal((err as Error).message, 'target refused token [secret token] for m-1', 'a secret echoed in an error is scrubbed');
  t.notMatch((err as Error).stack ?? '', /file-secret-123/);

  const pkgLoaded = await loadConnector(catalogue.root, manifest('forecast'));
  t.same(await pkgLoaded.definition.handle({} as never, {} as never), { detail: { forecast: 'mưa' } }, 'the package\'s own JavaScript entry');

  await t.rejects(loadConnector(catalogue.root, manifest('throws-on-import')), /connector throws-on-import: importing .* failed: module top level exploded/);
  writeConnectorSource(join(dir, 'throws-on-import', 'index.ts'), `export default { name: 'throws-on-import', async handle() {} };\n`);
  const fixed = await loadConnector(catalogue.root, manifest('throws-on-import'));
  t.equal(fixed.definition.name, 'throws-on-import', 'after a failed import, a fixed module loads without restarting the process');

  write(join(dir, 'wrong-name', 'connector.json'), { name: 'wrong-name', entry: './index', messageTypes: [] });
  writeConnectorSource(join(dir, 'wrong-name', 'index.ts'), `export default { name: 'other-name', async handle() {} };\n`);
  write(join(dir, 'no-handle', 'connector.json'), { name: 'no-handle', entry: './index', messageTypes: [] });
  writeConnectorSource(join(dir, 'no-handle', 'index.ts'), `export const x = 1;\n`);
  const more = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir], registryFile: SEED_REGISTRY });
  await t.rejects(loadConnector(more.root, more.manifests.find((m) => m.name === 'wrong-name')!), /module declares name "other-name"/);
  await t.rejects(loadConnector(more.root, more.manifests.find((m) => m.name === 'no-handle')!), /must export default defineConnector/);
  await t.rejects(loadConnector(more.root, { name: 'ghost', entry: 'connectors/ghost/index', messageTypes: [] }), /entry .* not found \(was it built\? npm run build\)/);
});

t.test('connector metrics on prom-client', async (t) => {
  const registry = new PromRegistry();
  const metrics = prometheusConnectorMetrics(registry, 'periodic-report');
  const counter = metrics.counter('reports_total', 'Reports', ['report_type']);
  counter.inc({ report_type: 'cds-nam' });
  metrics.counter('reports_total', 'Reports', ['report_type']).inc({ report_type: 'cds-nam' }, 2);
  metrics.histogram('call_seconds', 'Call time').observe(0.2);
  const text = await registry.metrics();
  t.match(text, /lgsp_connector_periodic_report_reports_total\{report_type="cds-nam"\} 3/);
  t.match(text, /lgsp_connector_periodic_report_call_seconds_count 1/);
  t.throws(() => metrics.histogram('reports_total', 'x'), /already a counter/);
  t.throws(() => metrics.counter('reports_total', 'x', ['other']), /labels/);
  t.ok(prometheusConnectorMetrics(registry, 'periodic-report').counter('reports_total', 'Reports', ['report_type']), 'a restarted connector gets its instruments back');
});

t.test('every message type is an OpenAPI component, with references re-rooted', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir], registryFile: SEED_REGISTRY });
  const components = messageTypeComponents(catalogue);
  t.ok(components['notice.send'] && components['good.ping'] && components['report.submit'], 'project and added connectors alike');
  t.notOk('$id' in components['report.submit']);
  t.equal(components['report.submit']['x-lgsp-connector'], 'periodic-report');
  const refs = JSON.stringify(components['report.submit']).match(/"\$ref":"[^"]+"/g) ?? [];
  t.ok(refs.length > 0);
  for (const ref of refs) t.match(ref, /"#\/components\/schemas\/report\.submit\/\$defs\//);
});

t.test('a reply schema is published as <type>.reply, a name no message type may take', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ registryFile: SEED_REGISTRY });
  t.equal(catalogue.publishedSchema('dossier.lookup'), catalogue.messageTypes.get('dossier.lookup')!.schema, 'a type: its payload schema');
  t.match(catalogue.publishedSchema('dossier.lookup.reply'), { $id: 'https://lgsp.example.gov.vn/schemas/messages/dossier.lookup.reply.schema.json' }, 'a request type\'s reply');
  t.equal(catalogue.publishedSchema('notice.send.reply'), undefined, 'a type without a reply has none');
  const components = messageTypeComponents(catalogue);
  t.match(components['dossier.lookup.reply'], { 'x-lgsp-reply-of': 'dossier.lookup', 'x-lgsp-connector': 'one-stop-shop' });
  t.notOk('$id' in components['dossier.lookup.reply']);
  for (const ref of JSON.stringify(components['dossier.lookup.reply']).match(/"\$ref":"[^"]+"/g) ?? []) t.match(ref, /"#\/components\/schemas\/dossier\.lookup\.reply\/\$defs\//);

  const scratch = mkdtempSync(join(tmpdir(), 'lgsp-reply-name-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  write(join(scratch, 'package.json'), { type: 'module', private: true });
  const dirs = join(scratch, 'connectors');
  // A type named like the project's reply schema; then a request type whose reply would be
  // published under the name of a type of the same connector.
  connectorFolder(dirs, 'reply-squatter', 'dossier.lookup.reply', goodModule('reply-squatter'));
  write(join(dirs, 'self-clash', 'connector.json'), {
    name: 'self-clash',
    entry: './index',
    messageTypes: [
      { type: 'self.ask', schema: './schemas/self.ask.schema.json', replySchema: './schemas/self.ask.answer.schema.json' },
      { type: 'self.ask.reply', schema: './schemas/self.ask.reply.schema.json' },
    ],
  });
  write(join(dirs, 'self-clash', 'schemas', 'self.ask.schema.json'), pingSchema('self.ask'));
  write(join(dirs, 'self-clash', 'schemas', 'self.ask.answer.schema.json'), pingSchema('self.ask.answer'));
  write(join(dirs, 'self-clash', 'schemas', 'self.ask.reply.schema.json'), pingSchema('self.ask.reply'));
  const refused = new SchemaCatalogue().loadConnectors({ connectorDirs: [dirs], registryFile: SEED_REGISTRY });
  const failed = Object.fromEntries(refused.failedManifests.map((f) => [f.name, f.error]));
  t.match(failed['reply-squatter'], /message type dossier\.lookup\.reply is the name of the reply schema of dossier\.lookup/);
  t.match(failed['self-clash'], /message type self\.ask\.reply is the name of the reply schema of self\.ask/);
  t.notOk(refused.messageTypes.has('dossier.lookup.reply') || refused.messageTypes.has('self.ask'), 'refused all or nothing');
  t.match(refused.publishedSchema('dossier.lookup.reply'), { $id: /dossier\.lookup\.reply\.schema\.json$/ }, 'the name still means the reply');

  // The other way round: a request type declared after a type holding its reply's name.
  const later = join(scratch, 'later');
  for (const type of ['later.ask', 'later.ask.reply', 'later.answer']) write(join(later, `${type}.schema.json`), pingSchema(type));
  const origin = { baseDir: scratch, manifestDir: later, source: later };
  const other = new SchemaCatalogue();
  other.addManifest({ name: 'first', entry: './index', messageTypes: [{ type: 'later.ask.reply', schema: './later.ask.reply.schema.json' }] }, origin);
  t.throws(
    () => other.addManifest({ name: 'second', entry: './index', messageTypes: [{ type: 'later.ask', schema: './later.ask.schema.json', replySchema: './later.answer.schema.json' }] }, origin),
    /the reply schema of later\.ask is published as later\.ask\.reply, already a message type of connector first/,
  );
});

t.test('the scaffolder refuses bad names, taken names and taken message types', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'lgsp-scaffold-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  t.throws(() => scaffoldConnector({ name: 'Bad_Name', root: scratch }), /not a valid connector name/);
  t.throws(() => scaffoldConnector({ name: 'ok-name', messageType: 'NoDots', root: scratch }), /not a valid message type/);
  t.throws(() => scaffoldConnector({ name: 'ok-name', messageType: 'notice.send', root: scratch }), /already declared by connector relay/);
  t.throws(() => scaffoldConnector({ name: 'ok-name', messageType: 'dossier.lookup.reply', root: scratch }), /dossier\.lookup\.reply is the name of the reply schema of dossier\.lookup \(connector one-stop-shop\)/);
  const made = scaffoldConnector({ name: 'ok-name', root: scratch });
  t.equal(made.messageType, 'ok-name.send');
  t.equal(made.files.length, 6);
  t.throws(() => scaffoldConnector({ name: 'ok-name', root: scratch }), /already exists/);
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [join(scratch, 'connectors')] });
  t.ok(catalogue.messageTypes.has('ok-name.send'), 'a scaffolded manifest and schema pass the gateway\'s checks');
  t.same(catalogue.failedManifests, []);
});

t.test('lgsp connector list runs the runner\'s checks before start(): import, name, configuration, secrets', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'lgsp-list-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  write(join(scratch, 'package.json'), { type: 'module', private: true });
  const connectors = join(scratch, 'connectors');
  connectorFolder(connectors, 'list-good', 'list.good', `export default { name: 'list-good', async handle() {} };\n`);
  connectorFolder(connectors, 'list-secret', 'list.secret', goodModule('list-secret'));
  connectorFolder(connectors, 'list-import', 'list.import', `throw new Error('cannot reach the vendor SDK');\n`);
  connectorFolder(connectors, 'list-named', 'list.named', `export default { name: 'someone-else', async handle() {} };\n`);
  connectorFolder(connectors, 'list-config', 'list.config', goodModule('list-config'));
  const configFile = join(scratch, 'connectors-config.json');
  write(configFile, { 'list-config': { level: 'high' }, 'list-confg': { level: 2 } });

  const saved = { ...process.env };
  const write0 = process.stdout.write.bind(process.stdout);
  let out = '';
  t.teardown(() => {
    process.env = saved;
    process.stdout.write = write0;
  });
  process.env.LGSP_CONNECTOR_DIRS = connectors;
  process.env.LGSP_REGISTRY_FILE = SEED_REGISTRY;
  process.env.LGSP_CONNECTORS_CONFIG = configFile;
  process.env.LGSP_SECRET_LIST_CONFIG_TOKEN = 'x';
  delete process.env.LGSP_SECRET_LIST_SECRET_TOKEN;
  delete process.env.LGSP_SECRET_LIST_SECRET_TOKEN_FILE;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  const code = await runConnectorCommand(['list']);
  process.stdout.write = write0;
  const line = (name: string) => out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  t.equal(code, 1, 'a connector the runner would fail makes the command fail');
  t.match(line('list-good'), /ok\s+list\.good/);
  t.match(line('list-secret'), /ok\s+list\.secret .*the runner needs LGSP_SECRET_LIST_SECRET_TOKEN, not set here/, 'a secret unset in this shell is a reminder');
  t.match(line('list-import'), /FAILED\s+connector list-import: importing .* failed: cannot reach the vendor SDK/);
  t.match(line('list-named'), /FAILED\s+connector list-named: module declares name "someone-else"/);
  t.match(line('list-config'), /FAILED\s+.*\/level must be integer/, 'the configuration file the runner reads is checked');
  t.match(line('relay'), /ok\s+notice\.send/, 'the project\'s connectors are listed too');
  t.match(line('list-confg'), /UNKNOWN the configuration has an entry "list-confg", which no connector\.json declares \(misspelt\?/, 'an entry for a connector that does not exist is named, not ignored without a word');

  // Without LGSP_CONNECTORS_CONFIG, the file `npm start` writes for the runner.
  delete process.env.LGSP_CONNECTORS_CONFIG;
  process.env.LGSP_DATA_DIR = scratch;
  write(join(scratch, 'connectors-config.json'), { 'list-config': { level: 'high' } });
  out = '';
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  await runConnectorCommand(['list']);
  process.stdout.write = write0;
  t.match(line('list-config'), /FAILED\s+.*\/level must be integer/, 'the stack\'s configuration file is read too');

  // No configuration file at all (a checkout where npm start never ran): a connector whose
  // configuration is required is a reminder, not a failure (the one-stop-shop connector here).
  rmSync(join(scratch, 'connectors-config.json'));
  rmSync(join(connectors, 'list-import'), { recursive: true });
  rmSync(join(connectors, 'list-named'), { recursive: true });
  out = '';
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  const unconfiguredCode = await runConnectorCommand(['list']);
  process.stdout.write = write0;
  t.match(line('one-stop-shop'), /ok\s+.*not configured here .*must have required property/, 'required configuration missing with no file: a reminder');
  t.equal(unconfiguredCode, 0, 'and not a failure');

  process.env.LGSP_CONNECTORS_CONFIG = join(scratch, 'absent.json');
  const write1 = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
  try {
    t.equal(await runConnectorCommand(['list']), 1);
  } finally {
    process.stderr.write = write1;
  }
  t.match(err, /cannot read LGSP_CONNECTORS_CONFIG .*absent\.json: ENOENT/);
});
