// docs/write-a-connector.md, followed step by step, so the guide cannot rot. The commands,
// registry entries and message are read from the guide itself (the blocks after its
// `<!-- guide-test: … -->` markers) and carried out in a temporary copy of the project layout
// (package.json's bin, scripts and tap settings; connectors/, test/ — the SDK, test helpers,
// services and node_modules linked in), never in the working tree. The shell commands run
// verbatim, as `sh -c '<the guide's text>'` in the copy:
//   1 scaffold: `npx lgsp connector new …`       2 the schema made the integrator's own
//   4 unit test: `npx tap test/<name>.test.ts`
//   5 registry entries from the guide; `npm run build`
//   6 start: gateway + a runner PROCESS from dist (what `npm start` runs, without its fixed
//     ports and second broker), next to a connector that throws in start() — reported, the
//     rest run; send the guide's message through the gateway, see it delivered
//   7 integration test: `KAFKA_BROKERS=$(jq … .lgsp/dev/stack.json) npx tap …` on the broker
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import type { RegistryData } from '../services/platform/registry.js';
import { freePort } from '../services/local-processes/free-port.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { linkedProjectCopy } from './helpers/project-copy.js';

// The guide's commands run as a user runs them (npx, nested tap runs, a TypeScript build): this
// file needs more than tap's default per-file time on a loaded machine.
t.setTimeout(900_000);

const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'write-a-connector.md'), 'utf8');

/** The fenced block right after `<!-- guide-test: name -->`. */
function block(name: string): string {
  const m = new RegExp(`<!-- guide-test: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(guide);
  if (!m) throw new Error(`docs/write-a-connector.md has no "${name}" step`);
  return m[1];
}

// The outer tap's own settings must not leak into the commands (a nested tap would take itself
// for a subtest of this one).
const commandEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(_?TAP|TS_NODE|NODE_OPTIONS$)/.test(k)));

/** Runs a command of the guide exactly as written, with sh, in the copy; its exit code and output. */
function runGuideCommand(cwd: string, text: string, withhold: string[] = []): { code: number | null; output: string } {
  const env = Object.fromEntries(Object.entries(commandEnv).filter(([k]) => !withhold.includes(k)));
  const r = spawnSync('sh', ['-c', text], { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, output: `${r.stdout}\n${r.stderr}` };
}

// A checkout that followed the guide holds its connector (connectors/weather-alert): the copy
// would meet that connector beside the one it scaffolds. The walk-through refuses to run there,
// saying why, rather than pass or skip (CI's clean clone has no such connector).
const guideConnector = /^npx lgsp connector new (\S+)/m.exec(block('scaffold'))?.[1];
const followedHere = guideConnector !== undefined && existsSync(join(PROJECT_ROOT, 'connectors', guideConnector));

t.test('docs/write-a-connector.md, step by step', async (t) => {
  if (followedHere) throw new Error(`this checkout has connectors/${guideConnector} (the guide was followed here): remove it (or run in a clean clone) for the walk-through`);
  for (const built of ['dist/services/cli/lgsp.js', 'dist/services/runner/main.js']) {
    if (!existsSync(join(PROJECT_ROOT, built))) throw new Error(`${built} is missing: run npm run build (npm test does) before this test`);
  }
  const root = mkdtempSync(join(tmpdir(), 'lgsp-guide-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // The project's package.json as far as the guide's commands use it: the `lgsp` bin
  // (`npx lgsp`), the build script (`npm run build`) and the tap settings (`npx tap`).
  const project = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { bin: unknown; scripts: { build: string }; tap: unknown };
  linkedProjectCopy(root, { name: 'guide-copy', private: true, type: 'module', bin: project.bin, scripts: { build: project.scripts.build }, tap: project.tap });

  // 1. Scaffold — the guide's command as written, run in the copy.
  const scaffold = block('scaffold').trim();
  const [, name, type] = /^npx lgsp connector new (\S+) --type (\S+)$/.exec(scaffold) ?? [];
  t.ok(name && type, `the scaffold step names a connector and a type: ${scaffold}`);
  const cli = runGuideCommand(root, scaffold);
  t.equal(cli.code, 0, cli.output);
  t.match(cli.output, new RegExp(`created connector ${name}`));
  const promised = [...guide.matchAll(/^\| `((?:connectors|test)\/[^`]+)` \|/gm)].map((m) => m[1]);
  t.ok(promised.length >= 6, 'the guide lists the scaffolded files');
  for (const file of promised) t.ok(existsSync(join(root, file)), `scaffolded ${file}`);

  // 2. Describe the payload: the integrator makes the schema theirs. Here an alert must carry
  //    its text (the guide's message does); the scaffolded tests must follow the schema's
  //    example, not a payload of the scaffold's own that the new schema refuses.
  const schemaFile = join(root, 'connectors', name, 'schemas', `${type}.schema.json`);
  const described = JSON.parse(readFileSync(schemaFile, 'utf8')) as { required: string[] };
  described.required = [...described.required, 'body'];
  writeFileSync(schemaFile, JSON.stringify(described, null, 2));

  // 4. The scaffolded unit test, without Kafka: the guide's command.
  const unit = runGuideCommand(root, block('unit').trim());
  t.equal(unit.code, 0, unit.output);
  t.match(unit.output, new RegExp(`test/${name}\\.test\\.ts`), 'it ran the scaffolded test');
  t.match(unit.output, /# \{ total: \d+, pass: \d+ \}/, 'its tests ran and passed');
  t.notMatch(unit.output, /not ok/);

  // 5. Registry entries from the guide; build into dist/ as `npm run build` does. A second
  //    connector that throws in start() is built alongside, for the acceptance check below.
  const registryAdditions = JSON.parse(block('registry')) as Pick<RegistryData, 'services' | 'accessRights'>;
  t.equal(registryAdditions.services[0].connector, name);
  //    Added to the copy's seeds/registry.json, as the guide says: the scaffolded integration
  //    test (step 7) then starts from a registry that lists the service already.
  //    A checkout that followed the guide has these entries in its seeds already: added once,
  //    or the registry refuses the service listed twice and `npm test` fails for having
  //    followed the guide.
  const addGuideEntries = (registry: Pick<RegistryData, 'services' | 'accessRights'>) => {
    for (const s of registryAdditions.services) if (!registry.services.some((e) => e.code === s.code && e.provider === s.provider)) registry.services.push(s);
    for (const r of registryAdditions.accessRights) if (!registry.accessRights.some((e) => e.client === r.client && e.service === r.service && e.provider === r.provider)) registry.accessRights.push(r);
  };
  const seeds = JSON.parse(readFileSync(join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
  addGuideEntries(seeds);
  mkdirSync(join(root, 'seeds'));
  writeFileSync(join(root, 'seeds', 'registry.json'), JSON.stringify(seeds, null, 2));

  mkdirSync(join(root, 'connectors', 'broken-at-start'));
  writeFileSync(join(root, 'connectors', 'broken-at-start', 'connector.json'), JSON.stringify({ name: 'broken-at-start', entry: './index', messageTypes: [] }));
  writeFileSync(join(root, 'connectors', 'broken-at-start', 'index.ts'), `import { defineConnector } from '@lgsp/sdk';
export default defineConnector({
  name: 'broken-at-start',
  async start() { throw new Error('the target system refused our certificate'); },
  async handle() {},
});
`);
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({
    extends: join(PROJECT_ROOT, 'tsconfig.json'),
    // The copy's SDK is the linked connectors/sdk (symlinks preserved so it counts as inside
    // rootDir); @lgsp/sdk maps to it, as the workspace link does in the project itself.
    compilerOptions: { rootDir: '.', outDir: 'dist', preserveSymlinks: true, sourceMap: false, paths: { '@lgsp/sdk': ['./connectors/sdk/index.ts'], '@lgsp/sdk/*': ['./connectors/sdk/*.ts'] } },
    include: [`connectors/${name}/**/*.ts`, 'connectors/broken-at-start/**/*.ts'],
    exclude: [],
  }));
  const build = runGuideCommand(root, block('build').trim());
  t.equal(build.code, 0, build.output);
  t.ok(existsSync(join(root, 'dist', 'connectors', name, 'index.js')), 'compiled like npm run build');

  // 6. Start: the gateway (in-process, knowing the copy's connectors) and the runner as its own
  //    process from dist — the way `npm start` runs it, loading dist/connectors/<name>/index.js.
  t.equal(block('start').trim(), 'npm start');
  const connectorsDir = join(root, 'connectors');
  const bus = await startTestBus(t, {
    name: 'guide',
    runner: false,
    config: { connectorDirs: [connectorsDir] },
    registry: addGuideEntries,
  });
  const runnerPort = await freePort();
  const runnerUrl = `http://127.0.0.1:${runnerPort}`;
  let runnerLog = '';
  const runner: ChildProcess = spawn(process.execPath, [join(PROJECT_ROOT, 'dist/services/runner/main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: bus.config.kafkaBrokers.join(','),
      // The test broker's TLS trust and per-service SCRAM credentials (or its plaintext flag).
      ...Object.fromEntries(
        ['KAFKA_SSL_CA_FILE', 'KAFKA_CREDENTIALS_DIR', 'KAFKA_SASL_MECHANISM', 'LGSP_KAFKA_PLAINTEXT'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])),
      ),
      DATABASE_URL: bus.config.databaseUrl,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LGSP_TOPIC_PREFIX: bus.config.topicPrefix,
      LGSP_TOPIC_PARTITIONS: String(bus.config.topicPartitions),
      LGSP_DATA_DIR: bus.config.dataDir,
      LGSP_REGISTRY_FILE: bus.config.registryFile,
      LGSP_KEYS_DIR: bus.config.keysDir,
      LGSP_JWKS_FILE: bus.config.jwksFile,
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
    // A cold process start (module loading, migrations, Kafka group join) on a loaded machine.
  }, 90_000);
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
  t.same(view.events.map((e: { event: string }) => e.event), ['accepted', 'delivered']);
  const receiving = /_admin\/systems\/([^/]+)\/received/.exec(block('delivered'))![1];
  const received = bus.simulator.received.get(receiving)?.find((m) => m.id === sent.body.id);
  t.same(received?.envelope.data, body.payload, `the ${receiving} system got it, signed`);
  const schema = await fetch(`${bus.gateway.url}/v1/schemas/${type}`);
  t.equal(schema.status, 200, 'the type joined /v1/schemas');
  t.ok((await (await fetch(`${bus.gateway.url}/openapi.json`)).json()).components.schemas[type], 'and the OpenAPI document');

  // 7. The scaffolded integration test on the same broker: the guide's command reads the
  //    broker from .lgsp/dev/stack.json, written here as `npm start` writes it.
  mkdirSync(join(root, '.lgsp', 'dev'), { recursive: true });
  //    The broker's TLS trust and credentials too: the command must pass them on itself, so the
  //    test's own KAFKA_SSL_CA_FILE / KAFKA_CREDENTIALS_DIR are withheld from it.
  const secured = process.env.LGSP_KAFKA_PLAINTEXT !== '1';
  writeFileSync(join(root, '.lgsp', 'dev', 'stack.json'), JSON.stringify({
    kafka: { bootstrapServers: bus.config.kafkaBrokers.join(','), ...(secured ? { sslCaFile: process.env.KAFKA_SSL_CA_FILE, credentialsDir: process.env.KAFKA_CREDENTIALS_DIR } : {}) },
  }));
  const integration = runGuideCommand(root, block('integration').trim(), secured ? ['KAFKA_SSL_CA_FILE', 'KAFKA_CREDENTIALS_DIR'] : []);
  t.equal(integration.code, 0, integration.output);
  t.match(integration.output, new RegExp(`test/${name}-bus\\.test\\.ts`), 'it ran the scaffolded integration test');
  t.notMatch(integration.output, /not ok/);
});
