// The fault proof's accounting, against the bus's external contract only (so it holds however
// the topics inside are laid out): every id answered 202 must end either received by the
// destination (a receipt at the chaos receiver, deduped by LGSP-Message-Id) or dead-lettered
// with a reason (`GET /v1/messages/{id}` says dead_lettered and its event names why, and the
// console's dead-letter listing holds it). Anything else is lost. The audit must hold an
// `accepted` entry for every accepted id, and `lgsp audit verify` must pass.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import type { BusClient } from '../../services/platform/bus-client.js';
import type { ChaosReceiver } from './receiver.js';

export interface DeadLetterFinding {
  id: string;
  reason: string;
  /** Listed by the console's dead-letter API (null: no console in this run). */
  listed: boolean | null;
}

export interface Settlement {
  accepted: number;
  delivered: number;
  deadLettered: DeadLetterFinding[];
  /** Neither received nor dead-lettered with a reason once the wait was over. */
  lost: string[];
  drainMs: number;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/** The reason a dead-lettered message's status gives, or null when it is not dead-lettered. */
async function deadLetterReason(operator: BusClient, id: string): Promise<string | null> {
  const r = await operator.status(id).catch(() => null);
  const body = r?.body as { status?: string; events?: { event: string; detail?: Record<string, unknown> }[] } | undefined;
  if (r?.status !== 200 || body?.status !== 'dead_lettered') return null;
  const event = [...(body.events ?? [])].reverse().find((e) => e.event === 'dead_lettered');
  const reason = event?.detail?.reason;
  return typeof reason === 'string' && reason.length > 0 ? reason : '(dead_lettered without a reason)';
}

async function listedByConsole(consoleUrl: string, token: string, id: string): Promise<boolean> {
  const r = await fetch(`${consoleUrl}/v1/console/dead-letters?messageId=${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
  if (!r?.ok) return false;
  const body = (await r.json()) as { items?: { messageId: string; reason?: string }[] };
  return (body.items ?? []).some((d) => d.messageId === id && !!d.reason);
}

/**
 * Waits until every id is received or dead-lettered (or `timeoutMs` passes) and says which is
 * which. Statuses are asked only once few ids remain, so a long drain does not flood the gateway.
 */
export async function settle(
  ids: string[],
  receiver: ChaosReceiver,
  operator: BusClient,
  opts: {
    timeoutMs: number;
    consoleUrl?: string;
    /** Receipts kept elsewhere (the mock portal's records), refreshed once per round. */
    elsewhere?: { has(id: string): boolean; refresh(): Promise<void> };
  },
): Promise<Settlement> {
  const started = Date.now();
  const got = (id: string) => receiver.receipts.has(id) || (opts.elsewhere?.has(id) ?? false);
  const dead = new Map<string, string>();
  let pending = ids;
  for (;;) {
    await opts.elsewhere?.refresh().catch(() => undefined);
    pending = pending.filter((id) => !got(id) && !dead.has(id));
    if (pending.length === 0 || Date.now() - started > opts.timeoutMs) break;
    if (pending.length <= 3000) {
      const reasons = await mapLimit(pending, 16, (id) => deadLetterReason(operator, id));
      pending.forEach((id, i) => {
        const reason = reasons[i];
        // Received meanwhile wins: a replayed dead letter may still say dead_lettered for a moment.
        if (reason && !got(id)) dead.set(id, reason);
      });
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const drainMs = Date.now() - started;
  const deadLettered: DeadLetterFinding[] = [];
  const token = opts.consoleUrl ? await operator.accessToken() : '';
  // The console indexes dead letters from the bus: a listing may trail the status by seconds.
  const listedDeadline = Date.now() + 60_000;
  const findings = await mapLimit([...dead], 8, async ([id, reason]) => {
    if (!opts.consoleUrl) return { id, reason, listed: null };
    let listed = await listedByConsole(opts.consoleUrl, token, id);
    while (!listed && Date.now() < listedDeadline) {
      await new Promise((r) => setTimeout(r, 2000));
      listed = await listedByConsole(opts.consoleUrl, token, id);
    }
    return { id, reason, listed };
  });
  deadLettered.push(...findings.filter((f) => !got(f.id)));
  const delivered = ids.filter(got).length;
  const lost = ids.filter((id) => !got(id) && !dead.has(id));
  return { accepted: ids.length, delivered, deadLettered, lost, drainMs };
}

export interface AuditCoverage {
  covered: number;
  missing: string[];
  /** For the first missing ids: the events the audit does hold for them (diagnosis). */
  missingHas: Record<string, string[]>;
  verifyOk: boolean;
  verifyOutput: string;
}

/** Every id with an `accepted` entry in the audit (query API, paged), waiting up to `timeoutMs`. */
export async function auditCoverage(
  ids: string[],
  auditUrl: string,
  operator: BusClient,
  opts: { sinceMs: number; timeoutMs: number; verify: () => Promise<{ ok: boolean; output: string }> },
): Promise<AuditCoverage> {
  const wanted = new Set(ids);
  const seen = new Set<string>();
  const from = new Date(opts.sinceMs - 60_000).toISOString();
  const deadline = Date.now() + opts.timeoutMs;
  const page = async (query: string) => {
    const r = await fetch(`${auditUrl}/v1/audit/events?${query}`, { headers: { authorization: `Bearer ${await operator.accessToken()}` } });
    if (!r.ok) throw new Error(`audit query answered ${r.status}`);
    return (await r.json()) as { entries: { event: { event: string; messageId?: string } }[]; nextBefore: number | null };
  };
  const sweep = async () => {
    let before: number | null = null;
    do {
      const p = await page(`event=accepted&from=${encodeURIComponent(from)}&limit=1000${before ? `&before=${before}` : ''}`);
      for (const e of p.entries) if (e.event.messageId && wanted.has(e.event.messageId)) seen.add(e.event.messageId);
      before = p.nextBefore;
    } while (before !== null);
  };
  for (;;) {
    try {
      await sweep();
    } catch {
      /* the audit service may be restarting: try again */
    }
    if (seen.size >= wanted.size || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const verdict = await opts.verify();
  const missing = ids.filter((id) => !seen.has(id));
  const missingHas: Record<string, string[]> = {};
  for (const id of missing.slice(0, 10)) {
    missingHas[id] = await page(`messageId=${id}&limit=100`).then((p) => p.entries.map((e) => e.event.event)).catch((err: Error) => [`(query failed: ${err.message})`]);
  }
  return { covered: seen.size, missing, missingHas, verifyOk: verdict.ok, verifyOutput: verdict.output };
}

/** `lgsp audit verify` as an operator runs it, against the stack's database, keys and brokers. */
export function runAuditVerify(args: { databaseUrl: string; keysFile: string; brokers: string; topicPrefix: string; kafkaEnv?: Record<string, string> }): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    // kafkaEnv: the stack's own broker's CA and credentials (it reads the checkpoint topic).
    const env = { ...process.env, ...args.kafkaEnv };
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'services', 'cli', 'lgsp.js'), 'audit', 'verify', '--database', args.databaseUrl, '--keys', args.keysFile, '--brokers', args.brokers, '--topic-prefix', args.topicPrefix], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, output: output.trim().split('\n').slice(-3).join(' | ') });
    });
  });
}
