// docs/write-a-connector.md, followed step by step, so the guide cannot rot. The commands,
// registry entries and message are read from the guide itself (the blocks after its
// `<!-- guide-test: … -->` markers) and carried out in a temporary copy of the project layout
// (connectors/, test/ — the SDK, test helpers, services and node_modules linked in), never in
// the working tree:
//   1 scaffold with the built `lgsp` CLI        4 unit test (the scaffolded one)
//   5 registry entries from the guide; build    6 start: gateway + a runner PROCESS from dist,
//     (tsc into dist/, as npm run build does)     as npm start runs it, next to a connector that
//   6 send the guide's message through the        throws in start() — reported, the rest run
//     gateway, see it delivered                 7 integration test (the scaffolded one) on the broker
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import type { RegistryData } from '../services/platform/registry.js';
import { freePort } from '../services/stack/free-port.js';
import { startTestBus, eventually } from './helpers/test-bus.js';

const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'write-a-connector.md'), 'utf8');
const TAP_TS_LOADER = join(PROJECT_ROOT, 'node_modules', '@tapjs', 'typescript', 'dist', 'esm', 'import.mjs');

/** The fenced block right after `<!-- guide-test: name -->`. */
function block(name: string): string {
  const m = new RegExp(`<!-- guide-test: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(guide);
  if (!m) throw new Error(`docs/write-a-connector.md has no "${name}" step`);
  return m[1];
}

/** Runs a test file the way tap does (TypeScript loader, transpile only); resolves with its output. */
function runTapFile(cwd: string, file: string, env: Record<string, string> = {}): { code: number | null; output: string } {
  const r = spawnSync(process.execPath, [`--import=${new URL(`file://${TAP_TS_LOADER}`).href}`, file], {
    cwd,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, output: `${r.stdout}\n${r.stderr}` };
}

t.test('docs/write-a-connector.md, step by step', async (t) => {
  for (const built of ['dist/services/cli/lgsp.js', 'dist/services/runner/main.js']) {
    if (!existsSync(join(PROJECT_ROOT, built))) throw new Error(`${built} is missing: run npm run build (npm test does) before this test`);
  }
  const root = mkdtempSync(join(tmpdir(), 'lgsp-guide-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'guide-copy', private: true, type: 'module' }));
  mkdirSync(join(root, 'connectors'));
  mkdirSync(join(root, 'test'));
  symlinkSync(join(PROJECT_ROOT, 'connectors', 'sdk'), join(root, 'connectors', 'sdk'));
  symlinkSync(join(PROJECT_ROOT, 'test', 'helpers'), join(root, 'test', 'helpers'));
  symlinkSync(join(PROJECT_ROOT, 'services'), join(root, 'services'));
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'));

  // 1. Scaffold — the guide's command, with --root pointing at the copy.
  const scaffold = block('scaffold').trim();
  t.match(scaffold, /^npx lgsp connector new (\S+) --type (\S+)$/);
  const [, name, type] = /^npx lgsp connector new (\S+) --type (\S+)$/.exec(scaffold)!;
  const cli = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist/services/cli/lgsp.js'), ...scaffold.split(/\s+/).slice(2), '--root', root], { encoding: 'utf8' });
  t.equal(cli.status, 0, cli.stderr);
  const promised = [...guide.matchAll(/^\| `((?:connectors|test)\/[^`]+)` \|/gm)].map((m) => m[1]);
  t.ok(promised.length >= 6, 'the guide lists the scaffolded files');
  for (const file of promised) t.ok(existsSync(join(root, file)), `scaffolded ${file}`);

  // 4. The scaffolded unit test, without Kafka.
  t.equal(block('unit').trim(), `npx tap test/${name}.test.ts`);
  const unit = runTapFile(root, `test/${name}.test.ts`);
  t.equal(unit.code, 0, unit.output);
  t.match(unit.output, /ok 2 - /, 'its tests ran');
  t.notMatch(unit.output, /not ok/);

  // 5. Registry entries from the guide; build into dist/ as `npm run build` does. A second
  //    connector that throws in start() is built alongside, for the acceptance check below.
  const registryAdditions = JSON.parse(block('registry')) as Pick<RegistryData, 'services' | 'accessRights'>;
  t.equal(registryAdditions.services[0].connector, name);
  t.equal(block('build').trim(), 'npm run build');
  mkdirSync(join(root, 'connectors', 'broken-at-start'));
  writeFileSync(join(root, 'connectors', 'broken-at-start', 'connector.json'), JSON.stringify({ name: 'broken-at-start', entry: './index', messageTypes: [] }));
  writeFileSync(join(root, 'connectors', 'broken-at-start', 'index.ts'), `import { defineConnector } from '../sdk/index.js';
export default defineConnector({
  name: 'broken-at-start',
  async start() { throw new Error('the target system refused our certificate'); },
  async handle() {},
});
`);
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({
    extends: join(PROJECT_ROOT, 'tsconfig.json'),
    compilerOptions: { rootDir: '.', outDir: 'dist', preserveSymlinks: true, sourceMap: false },
    include: [`connectors/${name}/**/*.ts`, 'connectors/broken-at-start/**/*.ts'],
    exclude: [],
  }));
  const tsc = spawnSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
  t.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
  t.ok(existsSync(join(root, 'dist', 'connectors', name, 'index.js')), 'compiled like npm run build');

  // 6. Start: the gateway (in-process, knowing the copy's connectors) and the runner as its own
  //    process from dist — the way `npm start` runs it, loading dist/connectors/<name>/index.js.
  t.equal(block('start').trim(), 'npm start');
  const connectorsDir = join(root, 'connectors');
  const bus = await startTestBus(t, {
    name: 'guide',
    runner: false,
    config: { connectorDirs: [connectorsDir] },
    registry: (registry) => {
      registry.services.push(...registryAdditions.services);
      registry.accessRights.push(...registryAdditions.accessRights);
    },
  });
  const runnerPort = await freePort();
  const runnerUrl = `http://127.0.0.1:${runnerPort}`;
  let runnerLog = '';
  const runner: ChildProcess = spawn(process.execPath, [join(PROJECT_ROOT, 'dist/services/runner/main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: bus.config.kafkaBrokers.join(','),
      DATABASE_URL: bus.config.databaseUrl,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LGSP_TOPIC_PREFIX: bus.config.topicPrefix,
      LGSP_TOPIC_PARTITIONS: String(bus.config.topicPartitions),
      LGSP_DATA_DIR: bus.config.dataDir,
      LGSP_REGISTRY_FILE: bus.config.registryFile,
      LGSP_KEYS_FILE: bus.config.keysFile,
      LGSP_ISSUER: bus.config.issuer,
      LGSP_CONNECTORS: `${name},broken-at-start,relay`,
      LGSP_CONNECTOR_DIRS: connectorsDir,
      LOG_LEVEL: 'info',
      PORT: String(runnerPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runner.stdout!.on('data', (c: Buffer) => (runnerLog += c.toString()));
  runner.stderr!.on('data', (c: Buffer) => (runnerLog += c.toString()));
  t.teardown(() => new Promise<void>((resolve) => {
    if (runner.exitCode !== null) return resolve();
    runner.once('exit', () => resolve());
    runner.kill('SIGTERM');
    setTimeout(() => runner.kill('SIGKILL'), 10_000).unref();
  }));

  const operator = await bus.client('lgsp-operator').accessToken();
  const status = (connector: string) => fetch(`${runnerUrl}/v1/connectors/${connector}/status`, { headers: { authorization: `Bearer ${operator}` } }).then((r) => r.json());
  const running = await eventually(async () => {
    if (runner.exitCode !== null) throw new Error(`the runner exited: ${runnerLog}`);
    const s = await status(name);
    return s.connector?.state === 'RUNNING' ? s : null;
  }, 30_000);
  t.match(running, { name, stats: { delivered: 0 } }, `${name} runs in the runner process`);
  const broken = await status('broken-at-start');
  t.equal(broken.connector.state, 'FAILED', 'the connector that throws on start is reported');
  t.match(broken.connector.trace, /connector broken-at-start: start failed: the target system refused our certificate/);
  t.match(runnerLog, /"connector":"broken-at-start".*the target system refused our certificate.*connector failed to start/, 'and in the runner log');
  t.equal((await status('relay')).connector.state, 'RUNNING', 'the others keep running');

  // …send the guide's message through the gateway and see it delivered.
  const send = block('send');
  const body = JSON.parse(/-d '([^']+)'/.exec(send)![1]) as { type: string; to: { member: string; service: string }; payload: unknown };
  t.equal(body.type, type);
  const sender = /npx lgsp token (\S+)\)/.exec(send)![1];
  const sent = await bus.client(sender).send(body);
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  t.match(block('delivered'), /"status":"delivered"/);
  const view = await eventually(async () => {
    const r = await bus.client(sender).status(sent.body.id);
    return r.body.status === 'delivered' ? r.body : null;
  }, 30_000);
  t.same(view.events.map((e: { event: string }) => e.event), ['accepted', 'routed', 'delivered']);
  const receiving = /_admin\/systems\/([^/]+)\/received/.exec(block('delivered'))![1];
  const received = bus.simulator.received.get(receiving)?.find((m) => m.id === sent.body.id);
  t.same(received?.envelope.data, body.payload, `the ${receiving} system got it, signed`);
  const schema = await fetch(`${bus.gateway.url}/v1/schemas/${type}`);
  t.equal(schema.status, 200, 'the type joined /v1/schemas');
  t.ok((await (await fetch(`${bus.gateway.url}/openapi.json`)).json()).components.schemas[type], 'and the OpenAPI document');

  // 7. The scaffolded integration test, on the same broker.
  t.match(block('integration').trim(), new RegExp(`^KAFKA_BROKERS=.+ npx tap test/${name}-bus\\.test\\.ts$`));
  const integration = runTapFile(root, `test/${name}-bus.test.ts`, { KAFKA_BROKERS: bus.config.kafkaBrokers.join(',') });
  t.equal(integration.code, 0, integration.output);
});
