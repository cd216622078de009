// One fault-proof run: a stack of its own, the chaos receiver, steady load, then each chosen
// fault in turn (warm-up under load, inject, window, lift, settle under load), each followed by
// the full accounting of the messages accepted during it. Used by `npm run chaos` (main.ts) and
// by the CI subset (test/chaos-ci.test.ts).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusClient } from '../../services/platform/bus-client.js';
import { ChaosStack, sleep } from './chaos-stack.js';
import { ChaosReceiver } from './receiver.js';
import { SteadyLoad } from './steady-load.js';
import { FAULTS, type Fault, type FaultContext, type PortalDossiers } from './faults.js';
import { auditCoverage, runAuditVerify, settle } from './accounting.js';

/** Deliveries one runner has in flight at most (LGSP_DELIVERY_CONCURRENCY, default 32). */
const DELIVERY_CONCURRENCY = Number(process.env.LGSP_DELIVERY_CONCURRENCY ?? 32);

export interface ChaosOptions {
  faults: string[];
  quick: boolean;
  /** Messages per second of the steady load. */
  rate: number;
  /** Soak: this many accepted messages with no fault (0: none). */
  soak: number;
  gateways: number;
  runners: number;
  audits: number;
  console: boolean;
  /** Each service's output goes here (kept); default: inside the run's data dir. */
  logDir?: string;
  /** Run the mock portal and the one-stop-shop connector (needed by the portal-errors fault). */
  portal?: boolean;
  /** Brokers to use instead of a 3-node cluster of the run's own. */
  externalBrokers?: string;
  log: (line: string) => void;
  /** Called after each phase with the results so far (main.ts writes them as it goes). */
  onPhase?: (phases: PhaseResult[]) => void;
}

export interface PhaseResult {
  fault: string;
  what: string;
  accepted: number;
  delivered: number;
  deadLettered: number;
  deadLetterReasons: Record<string, number>;
  /** Dead letters the console's listing did not show (null: no console). */
  deadLettersNotListed: number | null;
  lost: number;
  lostIds: string[];
  duplicates: number;
  duplicateBound: number;
  auditCovered: number;
  auditMissing: number;
  /** The first ids the audit lacks, with the events it holds for each. */
  auditMissingIds: Record<string, string[]>;
  auditVerify: boolean;
  auditVerifyOutput: string;
  /** First receipt at the receiver after the fault was lifted (ms after lifting). */
  recoveryMs: number | null;
  /** First 202 after the fault was lifted (ms after lifting). */
  firstAcceptAfterLiftMs: number | null;
  /** Longest time without a new receipt from injection until lifted + 10 s. */
  longestDeliveryGapMs: number;
  windowMs: number;
  drainMs: number;
  refusals: Record<string, number>;
  mustDeliverMissing: number;
  durationMs: number;
  ratePerSecond?: number;
  notes: Record<string, unknown>;
  passed: boolean;
}

export interface ChaosResult {
  startedAt: string;
  options: Omit<ChaosOptions, 'log'>;
  phases: PhaseResult[];
  passed: boolean;
}

let phasesSoFar: PhaseResult[] = [];

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const startedAt = new Date().toISOString();
  const unknown = opts.faults.filter((f) => !FAULTS.some((x) => x.name === f));
  if (unknown.length) throw new Error(`unknown fault(s): ${unknown.join(', ')} (known: ${FAULTS.map((f) => f.name).join(', ')})`);
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-chaos-'));
  // Run as root, PostgreSQL runs as its own user (local-postgres.ts) and must reach its data dir below.
  chmodSync(dataDir, 0o755);
  const receiver = new ChaosReceiver();
  await receiver.start();
  const stack = new ChaosStack({
    dataDir,
    gateways: opts.gateways,
    runners: opts.runners,
    audits: opts.audits,
    console: opts.console,
    portal: opts.portal ?? opts.faults.includes('portal-errors'),
    receiverUrl: receiver.url,
    externalBrokers: opts.externalBrokers,
    logDir: opts.logDir,
    topicPrefix: `chaos-${Date.now().toString(36)}.`,
    env: { LGSP_CHECKPOINT_INTERVAL_MS: '2000' },
    log: opts.log,
  });
  const phases: PhaseResult[] = [];
  phasesSoFar = phases;
  let keep = true;
  // Ctrl-C or a supervisor's SIGTERM: stop everything this run started before leaving.
  const interrupted = (signal: NodeJS.Signals) => {
    opts.log(`${signal}: stopping the chaos stack`);
    void stack.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await stack.start();
    const operator = new BusClient(stack.issuer, stack.clients.get('lgsp-operator')!, stack.issuer);
    const load = new SteadyLoad(stack.gatewayUrls, stack.clients.get('so-tttt-qlvb')!, stack.issuer);
    const ctx: FaultContext = { stack, receiver, load, operator, quick: opts.quick, log: opts.log };
    for (const name of opts.faults) {
      const fault = FAULTS.find((f) => f.name === name)!;
      opts.log(`fault ${fault.name}: ${fault.what}`);
      phases.push(await runPhase(ctx, opts, fault));
      report(opts, phases[phases.length - 1]);
    }
    keep = !phases.every((p) => p.passed);
    if (opts.soak > 0) {
      opts.log(`soak: ${opts.soak} messages at ${opts.rate}/s, no fault`);
      phases.push(await runSoak(ctx, opts));
      report(opts, phases[phases.length - 1]);
      keep = !phases.every((p) => p.passed);
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await stack.close().catch((err: Error) => opts.log(`stopping the stack: ${err.message}`));
    await receiver.stop();
    // A failed run keeps its data and every service's log for the post-mortem.
    if (keep) opts.log(`kept the run's data and logs in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
  const { log: _log, onPhase: _onPhase, ...options } = opts;
  void _log;
  void _onPhase;
  return { startedAt, options, phases, passed: phases.length > 0 && phases.every((p) => p.passed) };
}

function report(opts: ChaosOptions, p: PhaseResult): void {
  opts.onPhase?.(phasesSoFar);
  opts.log(`  ${p.fault}: accepted ${p.accepted}, delivered ${p.delivered}, dead-lettered ${p.deadLettered}, lost ${p.lost}, duplicates ${p.duplicates} (bound ${p.duplicateBound}), audit ${p.auditCovered}/${p.accepted} verify ${p.auditVerify ? 'ok' : 'FAILED'}, recovery ${p.recoveryMs ?? '-'} ms → ${p.passed ? 'passed' : 'FAILED'}`);
}

async function runPhase(ctx: FaultContext, opts: ChaosOptions, fault: Fault): Promise<PhaseResult> {
  const { load, receiver } = ctx;
  const started = Date.now();
  const firstIndex = load.accepted.length;
  const duplicatesBefore = receiver.duplicates;
  const refusalsBefore = new Map(load.refusals);
  load.start(opts.rate);
  await sleep(opts.quick ? 3000 : 8000);
  const outcome = await fault.run(ctx);
  await sleep(opts.quick ? 5000 : 10_000);
  await load.stop();
  // Ids a fault sent itself went through the same load client, so they are in `accepted` already.
  const ids = [...new Set([...load.accepted.slice(firstIndex).map((a) => a.id), ...(outcome.extraIds ?? [])])];
  const firstAccept = load.accepted.slice(firstIndex).find((a) => a.at >= outcome.liftedAt);
  return account(ctx, opts, {
    name: fault.name,
    what: fault.what,
    ids,
    started,
    duplicatesBefore,
    refusalsBefore,
    duplicateBound: duplicateBound(receiver, outcome.injectedAt, opts.runners),
    recoveryMs: nullable(receiver.firstArrivalAfter(outcome.liftedAt), outcome.liftedAt),
    firstAcceptAfterLiftMs: firstAccept ? firstAccept.at - outcome.liftedAt : null,
    longestDeliveryGapMs: receiver.longestGap(outcome.injectedAt, outcome.liftedAt + 10_000),
    windowMs: outcome.liftedAt - outcome.injectedAt,
    mustDeliver: outcome.allMustDeliver ? [...ids] : outcome.mustDeliver ?? [],
    portal: outcome.portal,
    notes: outcome.notes,
    drainTimeoutMs: 240_000,
  });
}

async function runSoak(ctx: FaultContext, opts: ChaosOptions): Promise<PhaseResult> {
  const { load, receiver } = ctx;
  const started = Date.now();
  const firstIndex = load.accepted.length;
  const duplicatesBefore = receiver.duplicates;
  const refusalsBefore = new Map(load.refusals);
  load.start(opts.rate);
  let lastReport = Date.now();
  while (load.accepted.length - firstIndex < opts.soak) {
    await sleep(500);
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      const n = load.accepted.length - firstIndex;
      opts.log(`  soak: ${n} accepted, ${n - load.accepted.slice(firstIndex).filter((a) => !receiver.receipts.has(a.id)).length} delivered, ${Math.round(n / ((Date.now() - started) / 1000))}/s`);
    }
  }
  await load.stop();
  const loadMs = Date.now() - started;
  const ids = load.accepted.slice(firstIndex).map((a) => a.id);
  const result = await account(ctx, opts, {
    name: `soak-${opts.soak}`,
    what: `${opts.soak} messages at a steady ${opts.rate}/s through ${opts.gateways} gateways, no fault`,
    ids,
    started,
    duplicatesBefore,
    refusalsBefore,
    // Nothing interrupts a delivery in a soak: at-least-once then means exactly once.
    duplicateBound: 0,
    recoveryMs: null,
    firstAcceptAfterLiftMs: null,
    longestDeliveryGapMs: receiver.longestGap(started + 5000, started + loadMs),
    windowMs: 0,
    mustDeliver: [],
    notes: { loadMs },
    drainTimeoutMs: 600_000,
  });
  result.ratePerSecond = Math.round((ids.length / loadMs) * 10000) / 10;
  return result;
}

/**
 * At-least-once, bounded: a message is delivered again only if its receipt was not yet written
 * to the runners' shared ledger when the fault hit — a delivery in flight (at most
 * LGSP_DELIVERY_CONCURRENCY per runner) or one completed but still waiting for its runner's
 * next ledger write (a runner writes the ledger once per outcome flush, which takes well under
 * 5 s; all deliveries of the last 5 s are counted as such). A run whose duplicates exceed this
 * fails.
 */
export function duplicateBound(receiver: ChaosReceiver, injectedAt: number, runners: number): number {
  return DELIVERY_CONCURRENCY * runners + receiver.receiptsBetween(injectedAt - UNRECORDED_WINDOW_MS, injectedAt);
}

const UNRECORDED_WINDOW_MS = 5000;

function nullable(at: number | null, since: number): number | null {
  return at === null ? null : at - since;
}

async function account(
  ctx: FaultContext,
  opts: ChaosOptions,
  p: {
    name: string;
    what: string;
    ids: string[];
    started: number;
    duplicatesBefore: number;
    refusalsBefore: Map<string, number>;
    duplicateBound: number;
    recoveryMs: number | null;
    firstAcceptAfterLiftMs: number | null;
    longestDeliveryGapMs: number;
    windowMs: number;
    mustDeliver: string[];
    portal?: PortalDossiers;
    notes: Record<string, unknown>;
    drainTimeoutMs: number;
  },
): Promise<PhaseResult> {
  const { stack, receiver, operator, log } = ctx;
  log(`  accounting for ${p.ids.length} accepted messages`);
  const consoleUrl = opts.console ? stack.url('console') : undefined;
  // Dossiers are received when the portal holds them (its own record of what it stored), once.
  let portalCopies = new Map<string, number>();
  const elsewhere = p.portal
    ? {
        has: (id: string) => portalCopies.has(p.portal!.byMessage.get(id) ?? ''),
        refresh: async () => {
          const r = await fetch(`${p.portal!.portalUrl}/_admin/dossiers?source=one-stop`);
          const body = (await r.json()) as { dossiers: { dossierCode: string; copies: number }[] };
          portalCopies = new Map(body.dossiers.map((d) => [d.dossierCode, d.copies]));
        },
      }
    : undefined;
  const settlement = await settle(p.ids, receiver, operator, { timeoutMs: p.drainTimeoutMs, consoleUrl, elsewhere });
  const portalDuplicates = p.portal ? [...p.portal.byMessage.values()].reduce((a, code) => a + Math.max(0, (portalCopies.get(code) ?? 1) - 1), 0) : 0;
  const coverage = await auditCoverage(p.ids, stack.url('audit-1'), operator, {
    sinceMs: p.started,
    timeoutMs: 180_000,
    verify: () => runAuditVerify({ databaseUrl: stack.databaseUrl, keysFile: stack.keysFile, brokers: stack.brokers, topicPrefix: stack.opts.topicPrefix, kafkaEnv: stack.kafka?.clientEnv() }),
  });
  const duplicates = receiver.duplicates - p.duplicatesBefore + portalDuplicates;
  const reasons: Record<string, number> = {};
  for (const d of settlement.deadLettered) reasons[d.reason.slice(0, 80)] = (reasons[d.reason.slice(0, 80)] ?? 0) + 1;
  const notListed = opts.console ? settlement.deadLettered.filter((d) => d.listed === false).length : null;
  const refusals: Record<string, number> = {};
  for (const [k, v] of ctx.load.refusals) if (v - (p.refusalsBefore.get(k) ?? 0) > 0) refusals[k] = v - (p.refusalsBefore.get(k) ?? 0);
  const mustDeliverMissing = p.mustDeliver.filter((id) => !receiver.receipts.has(id)).length;
  const withoutReason = settlement.deadLettered.filter((d) => d.reason.startsWith('(')).length;
  const passed =
    p.ids.length > 0 &&
    settlement.lost.length === 0 &&
    withoutReason === 0 &&
    (notListed ?? 0) === 0 &&
    duplicates <= p.duplicateBound &&
    coverage.missing.length === 0 &&
    coverage.verifyOk &&
    mustDeliverMissing === 0;
  return {
    fault: p.name,
    what: p.what,
    accepted: p.ids.length,
    delivered: settlement.delivered,
    deadLettered: settlement.deadLettered.length,
    deadLetterReasons: reasons,
    deadLettersNotListed: notListed,
    lost: settlement.lost.length,
    lostIds: settlement.lost.slice(0, 20),
    duplicates,
    duplicateBound: p.duplicateBound,
    auditCovered: coverage.covered,
    auditMissing: coverage.missing.length,
    auditMissingIds: coverage.missingHas,
    auditVerify: coverage.verifyOk,
    auditVerifyOutput: coverage.verifyOutput,
    recoveryMs: p.recoveryMs,
    firstAcceptAfterLiftMs: p.firstAcceptAfterLiftMs,
    longestDeliveryGapMs: p.longestDeliveryGapMs,
    windowMs: p.windowMs,
    drainMs: settlement.drainMs,
    refusals,
    mustDeliverMissing,
    durationMs: Date.now() - p.started,
    notes: p.notes,
    passed,
  };
}
