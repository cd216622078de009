// The import-direction check of `npm run lint` (.dependency-cruiser.cjs) fails on wrong-way
// imports: a connector importing kafkajs, a service, the platform library, or the SDK by a
// relative path; and it passes on the real tree. The offending files are written to a
// temporary copy of the layout (the project's config and node_modules linked in), never into
// the working tree.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';

const DEPCRUISE = join(PROJECT_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function cruise(cwd: string, paths: string[]): { code: number | null; output: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, '--config', join(PROJECT_ROOT, '.dependency-cruiser.cjs'), ...paths], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

function layout(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'lgsp-boundaries-'));
  // node_modules is a directory of the copy, as in a checkout, and kafkajs a package inside it
  // (not a link out): linked, it resolved to an absolute path and hid that the config dropped
  // node_modules/kafkajs/… from the graph, so `npm run lint` let a connector import kafkajs.
  mkdirSync(join(root, 'node_modules'));
  for (const entry of readdirSync(join(PROJECT_ROOT, 'node_modules'))) {
    if (entry !== 'kafkajs') symlinkSync(join(PROJECT_ROOT, 'node_modules', entry), join(root, 'node_modules', entry));
  }
  cpSync(join(PROJECT_ROOT, 'node_modules', 'kafkajs'), join(root, 'node_modules', 'kafkajs'), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'));
  symlinkSync(join(PROJECT_ROOT, 'tsconfig.lint.json'), join(root, 'tsconfig.lint.json'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

t.test('a wrong-way import fails the check, naming the rule', async (t) => {
  const root = layout({
    'services/platform/envelope.ts': 'export const platformThing = 1;\n',
    'services/gateway/app.ts': "import { platformThing } from '../platform/envelope.js';\nexport const gatewayThing = platformThing;\n",
    'connectors/sdk/index.ts': "import { platformThing } from '../../services/platform/envelope.js';\nexport const sdkThing = platformThing;\n",
    'connectors/clean/index.ts': "import { createHash } from 'node:crypto';\nexport const digest = createHash('sha256').digest('hex');\n",
    'connectors/uses-kafka/index.ts': "import { Kafka } from 'kafkajs';\nexport const kafka = new Kafka({ brokers: [] });\n",
    'connectors/uses-service/index.ts': "import { gatewayThing } from '../../services/gateway/app.js';\nexport const x = gatewayThing;\n",
    'connectors/uses-platform/index.ts': "import { platformThing } from '../../services/platform/envelope.js';\nexport const x = platformThing;\n",
    'connectors/sdk-by-path/index.ts': "import { sdkThing } from '../sdk/index.js';\nexport const x = sdkThing;\n",
    'services/platform/uses-gateway.ts': "import { gatewayThing } from '../gateway/app.js';\nexport const x = gatewayThing;\n",
  });
  t.teardown(() => rmSync(root, { recursive: true, force: true }));

  const clean = cruise(root, ['connectors/clean', 'services/gateway', 'connectors/sdk']);
  t.equal(clean.code, 0, `a connector with no wrong-way import passes: ${clean.output}`);

  const cases: [string, RegExp][] = [
    ['connectors/uses-kafka', /connector-no-kafkajs: connectors\/uses-kafka\/index\.ts → \S*node_modules\/kafkajs/],
    ['connectors/uses-service', /connector-imports-no-service: connectors\/uses-service\/index\.ts → services\/gateway\/app\.ts/],
    ['connectors/uses-platform', /connector-imports-no-service: connectors\/uses-platform\/index\.ts → services\/platform\/envelope\.ts/],
    ['connectors/sdk-by-path', /connector-imports-sdk-by-name: connectors\/sdk-by-path\/index\.ts → connectors\/sdk\/index\.ts/],
    ['services/platform/uses-gateway.ts', /platform-imports-no-service-or-connector: services\/platform\/uses-gateway\.ts → services\/gateway\/app\.ts/],
  ];
  for (const [path, rule] of cases) {
    const r = cruise(root, [path]);
    t.not(r.code, 0, `${path} fails the check`);
    t.match(r.output, rule, `${path}: the report names the rule and the import`);
  }
});

t.test('the real tree passes', async (t) => {
  const r = cruise(PROJECT_ROOT, ['services', 'connectors', 'test']);
  t.equal(r.code, 0, r.output);
  t.match(r.output, /no dependency violations found/);
});
