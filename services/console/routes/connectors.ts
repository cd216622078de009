// Connector status with pause, resume and restart, through the runners' management API
// (Kafka Connect style). The console adds what a runner cannot see: each connector's consumer
// lag and dead-letter depth. Actions are operator-only and audited before they are forwarded.
//
// Every runner replica runs its own copy of every connector, so the console asks all of them
// (LGSP_RUNNER_URL lists each replica): the statistics are the sum over the runners, the state
// the one they agree on (else the most serious one), and `runners` says what each answered. A
// runner that does not answer is named in `unreachableRunners`; the others are still shown. A
// pause or resume is kept in PostgreSQL and applied by every runner (`runner_connector_pause`),
// so one runner that answers carries it out; a restart is each runner's own, so it goes to all.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../console-context.js';
import { resolveRunnerUrls } from '../runner-discovery.js';
import { READ_ROLES, WRITE_ROLES } from '../console-auth.js';
import type { OperatorActionName } from '../operator-audit.js';
import { callUpstream, relay, type Liveness, type UpstreamResponse } from '../upstream.js';
import { connectorAuditKey } from '../../platform/bus-events.js';
import { ProblemError } from '../../platform/problem.js';
import { startByHeader } from '../../platform/action-start-by.js';

/**
 * How long the view waits for each runner: a runner that hangs (frozen, overloaded) is shown as
 * not answering after this, not left to hold the page for the 30 s of a default upstream call.
 */
const VIEW_TIMEOUT_MS = 5_000;
/** Actions write the audit record and PostgreSQL first: more time, still short of a hung runner's forever. */
const ACTION_TIMEOUT_MS = 10_000;
/**
 * A restart waits for the connector's consumer group to take it back, which waits for a member
 * that hangs until its session times out (LGSP_CONSUMER_SESSION_TIMEOUT_MS, 30 s): a healthy
 * runner's restart may take that long. It is waited for while the runner answers its /healthz
 * (a hung runner is said within about 3 s), up to 35 s: within the page's 40 s.
 */
const RESTART_TIMEOUT_MS = 35_000;
const RUNNER_LIVENESS: Liveness = { path: '/healthz', timeoutMs: 3_000, intervalMs: 2_000 };

const NAME = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,62}$' } } };

/** Most serious first: a state the runners disagree on shows as the first of these any of them is in. */
const STATE_ORDER = ['FAILED', 'UNKNOWN', 'STOPPED', 'STARTING', 'PAUSED', 'RUNNING'];

type Answer = { url: string; response: UpstreamResponse } | { url: string; error: string };
const answered = (a: Answer): a is { url: string; response: UpstreamResponse } => 'response' in a;

interface RunnerStatus {
  connector?: { state?: string; trace?: string };
  lastError?: string | null;
  stats?: Record<string, number> | null;
  retry?: { parked?: { records?: number; bytes?: number }; pausedRetryPartitions?: number; openCircuits?: unknown[] } | null;
  [key: string]: unknown;
}

/** Asks every runner at once; a runner that does not answer is reported, not fatal. */
async function askAll(ctx: ConsoleContext, path: string, init: { method?: string; token: string; timeoutMs: number; liveness?: Liveness; headers?: Record<string, string> }): Promise<Answer[]> {
  if (ctx.upstream.runners.length === 0) throw new ProblemError(503, 'UPSTREAM_NOT_CONFIGURED', 'Service unavailable', 'The console is not configured with the runner URL');
  return Promise.all(
    (await resolveRunnerUrls(ctx.upstream.runners)).map(async (url): Promise<Answer> => {
      try {
        return { url, response: await callUpstream(url, 'runner', path, init) };
      } catch (err) {
        return { url, error: (err as Error).message };
      }
    }),
  );
}

/** A runner's answer to a restart (its status after it), as the console's answer gives it. */
function afterRestart(url: string, status: unknown): { url: string; state: string; lastError: string | null } {
  const s = (status ?? {}) as RunnerStatus;
  return { url, state: s.connector?.state ?? 'UNKNOWN', lastError: typeof s.lastError === 'string' ? s.lastError : null };
}

const unreachable = (detail: string) => new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', detail);

/** One connector's status over every runner that answered. */
function merge(statuses: { url: string; status: RunnerStatus }[]): RunnerStatus {
  const first = statuses[0].status;
  const states = statuses.map((s) => s.status.connector?.state ?? 'UNKNOWN');
  const state = new Set(states).size === 1 ? states[0] : (STATE_ORDER.find((s) => states.includes(s)) ?? states[0]);
  const errors = statuses.filter((s) => s.status.lastError).map((s) => (statuses.length > 1 ? `${s.url}: ${s.status.lastError}` : String(s.status.lastError)));
  const withStats = statuses.filter((s) => s.status.stats);
  const stats = withStats.length
    ? withStats.reduce<Record<string, number>>((sum, s) => {
        for (const [k, v] of Object.entries(s.status.stats!)) sum[k] = (sum[k] ?? 0) + (typeof v === 'number' ? v : 0);
        return sum;
      }, {})
    : null;
  const withRetry = statuses.filter((s) => s.status.retry);
  const retry = withRetry.length
    ? {
        parked: {
          records: withRetry.reduce((n, s) => n + (s.status.retry!.parked?.records ?? 0), 0),
          bytes: withRetry.reduce((n, s) => n + (s.status.retry!.parked?.bytes ?? 0), 0),
        },
        pausedRetryPartitions: withRetry.reduce((n, s) => n + (s.status.retry!.pausedRetryPartitions ?? 0), 0),
        openCircuits: withRetry.flatMap((s) => s.status.retry!.openCircuits ?? []),
      }
    : null;
  const trace = statuses.find((s) => s.status.connector?.trace)?.status.connector?.trace;
  return {
    ...first,
    connector: { state, ...(trace ? { trace } : {}) },
    lastError: errors.length ? errors.join('; ') : null,
    stats,
    retry,
  };
}

export async function connectorRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/v1/console/connectors', { config: { roles: READ_ROLES } }, async (req, reply) => {
    const token = req.accessToken!;
    const lists = await askAll(ctx, '/v1/connectors', { token, timeoutMs: VIEW_TIMEOUT_MS });
    const listed = lists.filter(answered);
    if (listed.length === 0) throw unreachable(`No runner answered: ${lists.map((a) => `${a.url}: ${'error' in a ? a.error : ''}`).join('; ')}`);
    // A refusal (401/403) is the same at every runner: pass the first one on as it is.
    const ok = listed.filter((a) => a.response.status === 200);
    if (ok.length === 0) return relay(req, reply, listed[0].response);
    const notOk = lists.filter((a) => !answered(a) || a.response.status !== 200);
    const down = notOk.map((a) => a.url);
    // Why each did not answer: a hung runner, a refused connection and a `dns+` name that does not
    // resolve call for different fixes, and the operator guide promises the reason.
    const downReasons = Object.fromEntries(notOk.map((a) => [a.url, answered(a) ? `status ${a.response.status}` : a.error]));
    const names = [...new Set(ok.flatMap((a) => a.response.body as string[]))];
    // The connectors' state comes from the runners; only the dead-letter counts from PostgreSQL.
    // A database that cannot answer blanks those counts ("—") rather than the whole view: the
    // runners' state and last errors are what an operator looks at during that outage.
    const depth = await ctx.store.deadLetters.depthByConnector().catch((err: Error) => {
      req.log.warn({ err: err.message }, 'dead-letter counts unavailable; connectors listed without them');
      return null;
    });
    const lags = ctx.lag.lags;
    return Promise.all(
      names.map(async (name) => {
        const perRunner = await Promise.all(
          ok.map(async ({ url }) => {
            try {
              const r = await callUpstream(url, 'runner', `/v1/connectors/${encodeURIComponent(name)}/status`, { token, timeoutMs: VIEW_TIMEOUT_MS });
              return { url, status: r.status === 200 ? (r.body as RunnerStatus) : { connector: { state: 'UNKNOWN' }, lastError: `status ${r.status}` } };
            } catch (err) {
              return { url, status: { connector: { state: 'UNKNOWN' }, lastError: (err as Error).message } as RunnerStatus };
            }
          }),
        );
        const lag = lags.find((l) => l.kind === 'connector' && l.name === name);
        return {
          name,
          ...merge(perRunner),
          runners: perRunner.map(({ url, status }) => ({ url, state: status.connector?.state ?? 'UNKNOWN', stats: status.stats ?? null, lastError: status.lastError ?? null })),
          unreachableRunners: down,
          unreachableReasons: downReasons,
          lag: lag?.lag ?? null,
          lagByTopic: lag?.byTopic ?? {},
          deadLetters: depth ? (depth.get(name) ?? 0) : null,
        };
      }),
    );
  });

  const action = (verb: 'PUT' | 'POST', op: 'pause' | 'resume' | 'restart') =>
    app.route<{ Params: { name: string } }>({
      method: verb,
      url: `/v1/console/connectors/:name/${op}`,
      config: { roles: WRITE_ROLES },
      schema: { params: NAME },
      handler: async (req, reply) => {
        const name = req.params.name;
        const auditName = `connector_${op}` as OperatorActionName;
        const path = `/v1/connectors/${encodeURIComponent(name)}/${op}`;
        const init = { method: verb, token: req.accessToken!, timeoutMs: ACTION_TIMEOUT_MS };
        // Keyed by the connector as the runner keys its record of the action: the intent comes first in the chain.
        const intent = await ctx.audit.record(req.operator!, auditName, { connector: name }, connectorAuditKey(name));
        const fail = async (status: number, detail: Record<string, unknown> = {}) =>
          ctx.audit.recordFailure(req.operator!, auditName, { connector: name, status, ...detail }, intent);
        if (ctx.upstream.runners.length === 0) {
          await fail(503);
          throw new ProblemError(503, 'UPSTREAM_NOT_CONFIGURED', 'Service unavailable', 'The console is not configured with the runner URL');
        }
        if (op !== 'restart') {
          // The target state is shared (PostgreSQL): the first runner that answers sets it for all.
          const errors: string[] = [];
          for (const url of await resolveRunnerUrls(ctx.upstream.runners)) {
            let r: UpstreamResponse;
            try {
              // Started within the wait or not at all (action-start-by.ts): a runner that takes it up
              // after the console gave up refuses it, so "failed" stays true.
              r = await callUpstream(url, 'runner', path, { ...init, headers: startByHeader(ACTION_TIMEOUT_MS) });
            } catch (err) {
              errors.push(`${url}: ${(err as Error).message}`);
              continue;
            }
            if (r.status >= 300) await fail(r.status);
            if (r.body === null) return reply.code(r.status).send();
            return relay(req, reply, r);
          }
          await fail(502);
          throw unreachable(`No runner answered: ${errors.join('; ')}. Not carried out: a runner that gets the request later refuses it`);
        }
        // A restart is each runner's own copy of the connector: every runner restarts it.
        // A hung runner is given up on within the liveness check's timeout, so that is when its
        // restart must have started (a healthy runner starts at once; the restart itself may take long).
        const answers = await askAll(ctx, path, { ...init, timeoutMs: RESTART_TIMEOUT_MS, liveness: RUNNER_LIVENESS, headers: startByHeader(RUNNER_LIVENESS.timeoutMs) });
        const done = answers.filter((a) => answered(a) && a.response.status < 300).map((a) => a.url);
        const refused = answers.filter(answered).find((a) => a.response.status >= 300);
        // Done everywhere: with the state each runner's copy is in after it, so a restart that
        // left the connector FAILED (its configuration still wrong) is said in the answer, not
        // found on the next refresh of the list.
        if (done.length === answers.length) return reply.code(202).send({ runners: answers.filter(answered).map((a) => afterRestart(a.url, a.response.body)) });
        const notDone = answers.filter((a) => !done.includes(a.url));
        await fail(refused && done.length === 0 ? refused.response.status : 502, { restarted: done, notRestarted: notDone.map((a) => a.url) });
        // Every runner refused alike (unknown connector, no right): that refusal as it is.
        if (refused && done.length === 0 && notDone.every(answered)) return relay(req, reply, refused.response);
        throw unreachable(
          `Restarted on ${done.length} of ${answers.length} runners; not on ${notDone
            .map((a) => `${a.url} (${answered(a) ? `status ${a.response.status}` : a.error})`)
            .join(', ')}. Not restarted there: a runner that gets the request later refuses it`,
        );
      },
    });
  action('PUT', 'pause');
  action('PUT', 'resume');
  action('POST', 'restart');
}
