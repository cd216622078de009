// The tests `lgsp connector new` writes must keep passing once the integrator does what the
// scaffolded module tells them to: replace the envelope with the target system's own request
// body (ctx.deliver({ url, envelope, body: { contentType, data } })). They compared the
// received envelope with the message (`delivery.envelope?.id` against the id): with a body of the
// connector's own there is no envelope, and the integration test failed with "should be equal"
// (undefined against an id), a reason an integrator cannot read. They now check what holds for
// either body: one request, signed (a JWS body or LGSP-Signature), naming the message in
// LGSP-Message-Id — and the envelope's content only when the body is the envelope.
// The connector is scaffolded into a temporary copy of the project layout (as
// connector-guide.test.ts does), its handler changed, and its two generated tests run there.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { scaffoldConnector } from '../services/cli/connector-scaffold.js';
import { linkedProjectCopy } from './helpers/project-copy.js';

t.setTimeout(600_000);

// The outer tap's own settings must not leak into the nested run.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(_?TAP|TS_NODE|NODE_OPTIONS$)/.test(k)));

t.test('the scaffolded tests pass for a handler that sends its own body', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lgsp-scaffold-own-body-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const project = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { tap: unknown };
  linkedProjectCopy(root, { name: 'scaffold-copy', private: true, type: 'module', tap: project.tap });

  const name = 'parcel-notice';
  const made = scaffoldConnector({ name, root });
  const index = join(made.connectorDir, 'index.ts');
  const scaffolded = readFileSync(index, 'utf8');
  const call = 'await ctx.deliver({ url, envelope: message, timeoutMs: ctx.config.timeoutMs });';
  t.ok(scaffolded.includes(call), 'the scaffolded handler delivers the envelope');
  // The target system's own JSON: the message's fields under its names.
  writeFileSync(index, scaffolded.replace(call, `await ctx.deliver({
      url,
      envelope: message,
      timeoutMs: ctx.config.timeoutMs,
      body: { contentType: 'application/json', data: JSON.stringify({ ref: message.id, tieuDe: (message.data as { title?: string }).title }) },
    });`));

  // Built into the copy's dist/ as `npm run build` does (the runner loads the compiled module).
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({
    extends: join(PROJECT_ROOT, 'tsconfig.json'),
    compilerOptions: { rootDir: '.', outDir: 'dist', preserveSymlinks: true, sourceMap: false, paths: { '@lgsp/sdk': ['./connectors/sdk/index.ts'], '@lgsp/sdk/*': ['./connectors/sdk/*.ts'] } },
    include: [`connectors/${name}/**/*.ts`],
    exclude: [],
  }));
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, env, encoding: 'utf8', timeout: 240_000 });
  if (build.status !== 0) t.comment(`${build.stdout}\n${build.stderr}`);
  t.equal(build.status, 0, 'the changed connector compiles');

  for (const file of [`test/${name}.test.ts`, `test/${name}-bus.test.ts`]) {
    const run = spawnSync('npx', ['tap', file], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    if (run.status !== 0) t.comment(output);
    t.equal(run.status, 0, `${file} passes`);
    t.match(output, /# \{ total: \d+, pass: \d+ \}/, `${file} ran`);
    t.notMatch(output, /not ok/);
  }
});
