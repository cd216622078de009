// `npm run chaos [-- --faults a,b] [--quick] [--soak N] [--rate R]`: the fault proof. Runs its
// own 3-broker cluster, PostgreSQL, two gateways, two runners, the audit leader + standby and
// the console, injects each fault under steady load and accounts for every accepted message.
// Prints a table, writes test/chaos/results/latest.json, and exits 1 if any phase lost a
// message, exceeded the duplicate bound, or left the audit incomplete or failing verification.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import { FAULTS } from './faults.js';
import { runChaos, type PhaseResult } from './chaos-run.js';

const USAGE = `usage: npm run chaos -- [--faults ${FAULTS.map((f) => f.name).join(',')}] [--quick] [--soak N] [--rate R] [--out file.json]
  --faults  faults to inject, in order (default: all)
  --quick   shorter warm-up, windows and settling (development)
  --soak N  after the faults, N messages with no fault and the same accounting (--faults none: soak only)
  --rate R  steady load in messages per second (default 50)
  --brokers host:port,…  use these brokers instead of a 3-node cluster of the run's own (no broker-kill)`;

const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

function parse() {
  const { values } = parseArgs({
    options: {
      faults: { type: 'string' },
      quick: { type: 'boolean', default: false },
      soak: { type: 'string', default: '0' },
      rate: { type: 'string', default: '50' },
      out: { type: 'string' },
      brokers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const faults = values.faults === undefined ? FAULTS.map((f) => f.name) : values.faults === 'none' ? [] : values.faults.split(',').map((f) => f.trim()).filter(Boolean);
  const soak = Number(values.soak);
  const rate = Number(values.rate);
  if (!Number.isInteger(soak) || soak < 0 || !(rate > 0 && rate <= 2000)) {
    console.error(USAGE);
    process.exit(2);
  }
  return { faults, quick: values.quick!, soak, rate, externalBrokers: values.brokers, out: values.out ?? join(PROJECT_ROOT, 'test', 'chaos', 'results', 'latest.json') };
}

function table(phases: PhaseResult[]): string {
  const head = ['fault', 'accepted', 'delivered', 'dead-lettered', 'lost', 'duplicates (bound)', 'audit covered', 'audit verify', 'window s', 'recovery ms', 'longest gap ms', 'drain s', 'result'];
  const rows = phases.map((p) => [
    p.fault,
    String(p.accepted),
    String(p.delivered),
    String(p.deadLettered),
    String(p.lost),
    `${p.duplicates} (${p.duplicateBound})`,
    `${p.auditCovered}/${p.accepted}`,
    p.auditVerify ? 'ok' : 'FAILED',
    (p.windowMs / 1000).toFixed(1),
    p.recoveryMs === null ? '-' : String(p.recoveryMs),
    String(p.longestDeliveryGapMs),
    (p.drainMs / 1000).toFixed(1),
    p.passed ? 'passed' : 'FAILED',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const opts = parse();
const started = Date.now();
let code = 1;
try {
  const logDir = join(opts.out, '..', 'logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(join(opts.out, '..'), { recursive: true });
  // Written after every phase too, so an interrupted run keeps what it measured.
  const onPhase = (phases: PhaseResult[]) => writeFileSync(opts.out, JSON.stringify({ partial: true, phases }, null, 2) + '\n');
  const result = await runChaos({ ...opts, gateways: 2, runners: 2, audits: 2, console: true, logDir, log, onPhase });
  writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
  console.log(table(result.phases));
  for (const p of result.phases.filter((x) => x.ratePerSecond)) console.log(`${p.fault}: ${p.accepted} messages at ${p.ratePerSecond}/s over ${Math.round(Number(p.notes.loadMs) / 1000)} s`);
  const survived = result.phases.filter((p) => p.passed && !p.fault.startsWith('soak')).length;
  const faults = result.phases.filter((p) => !p.fault.startsWith('soak')).length;
  const sum = (k: 'accepted' | 'lost' | 'duplicates') => result.phases.reduce((a, p) => a + p[k], 0);
  console.log(`faults survived ${survived}/${faults}; messages ${sum('accepted')}, lost ${sum('lost')}, duplicates ${sum('duplicates')}; ${Math.round((Date.now() - started) / 1000)} s; results in ${opts.out}`);
  code = result.passed ? 0 : 1;
} catch (err) {
  log(`the run failed: ${(err as Error).stack ?? err}`);
}
process.exit(code);
