// Calls to the services the console fronts (audit service, runner management API) on behalf
// of the operator, with the operator's own access token: each service checks the roles itself,
// so the console can never grant more than the token carries.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../platform/problem.js';
import { problemInstance } from '../platform/problem-handler.js';

export interface UpstreamResponse {
  status: number;
  contentType: string;
  body: unknown;
}

export async function callUpstream(
  base: string | null,
  what: string,
  path: string,
  init: { method?: string; token: string; query?: Record<string, unknown>; timeoutMs?: number; liveness?: Liveness; headers?: Record<string, string> },
): Promise<UpstreamResponse> {
  if (!base) throw new ProblemError(503, 'UPSTREAM_NOT_CONFIGURED', 'Service unavailable', `The console is not configured with the ${what} URL`);
  const url = new URL(path, base);
  // Forwarded as the operator wrote them: an empty value or a repeated parameter is the
  // upstream service's to judge (it refuses what it cannot honour), never dropped or merged here.
  for (const [k, v] of Object.entries(init.query ?? {})) {
    if (v === undefined || v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
  }
  const notAnswering = new AbortController();
  const watch = init.liveness ? watchLiveness(base, what, init.liveness, notAnswering) : null;
  let response: Response;
  let text: string;
  try {
    try {
      response = await fetch(url, {
        method: init.method ?? 'GET',
        headers: { ...init.headers, authorization: `Bearer ${init.token}`, accept: 'application/json' },
        signal: AbortSignal.any([AbortSignal.timeout(init.timeoutMs ?? 30_000), notAnswering.signal]),
      });
      text = await response.text();
    } catch (err) {
      if (notAnswering.signal.aborted) throw notAnswering.signal.reason as Error;
      throw new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The ${what} did not answer: ${whyNoAnswer(err as Error, init.timeoutMs ?? 30_000)}`);
    }
  } finally {
    watch?.stop();
  }
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The ${what} answered ${response.status} with a body that is not JSON`);
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body };
}

/**
 * Why a call got no answer, in words an operator can act on. Node's fetch says only "fetch
 * failed" (its cause says why: connect ECONNREFUSED 127.0.0.1:8081, getaddrinfo ENOTFOUND
 * runner-2) and a timeout "The operation was aborted due to timeout"; a refused connection, a
 * name that does not resolve and a hung service call for different fixes.
 */
export function whyNoAnswer(err: Error, timeoutMs: number): string {
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = err.cause as (Error & { code?: string; errors?: Error[] }) | undefined;
  if (!cause) return err.message;
  const why = cause.message || cause.errors?.map((e) => e.message).join('; ') || cause.code || String(cause);
  return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
}

/**
 * A call that may rightly take long (verifying the whole audit chain) is watched rather than
 * given one long timeout: the service's liveness path is asked at once and then every
 * `intervalMs`, and a service that does not answer it within `timeoutMs` (hung, frozen,
 * unreachable) ends the call with 502 UPSTREAM_UNAVAILABLE saying so, within seconds instead
 * of at the call's own timeout.
 */
export interface Liveness {
  path: string;
  timeoutMs: number;
  intervalMs: number;
}

/** The audit service's liveness check, for calls to it (the integrity check, the trail search). */
export const AUDIT_LIVENESS: Liveness = { path: '/healthz', timeoutMs: 3_000, intervalMs: 2_000 };

function watchLiveness(base: string, what: string, liveness: Liveness, notAnswering: AbortController): { stop: () => void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probeAbort = new AbortController();
  const probe = async (): Promise<void> => {
    if (stopped) return;
    let problem: string | null = null;
    try {
      const r = await fetch(new URL(liveness.path, base), { signal: AbortSignal.any([AbortSignal.timeout(liveness.timeoutMs), probeAbort.signal]) });
      await r.arrayBuffer();
      if (r.status >= 500) problem = `its ${liveness.path} answered HTTP ${r.status}`;
    } catch (err) {
      if (stopped) return;
      problem = (err as Error).name === 'TimeoutError' ? `no answer to ${liveness.path} within ${liveness.timeoutMs / 1000} s` : `${liveness.path} failed: ${whyNoAnswer(err as Error, liveness.timeoutMs)}`;
    }
    if (stopped) return;
    if (problem) {
      notAnswering.abort(new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The ${what} is not answering (${problem}); nothing was waited for longer`));
      return;
    }
    timer = setTimeout(() => void probe(), liveness.intervalMs);
    timer.unref();
  };
  void probe();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      probeAbort.abort();
    },
  };
}

/**
 * Answers with the upstream service's response as it is, except that a problem's `instance`
 * names the console's own path the operator called (not the upstream path behind it), as every
 * problem of the bus does (problemInstance).
 */
export function relay(req: FastifyRequest, reply: FastifyReply, r: UpstreamResponse): FastifyReply {
  const body = r.contentType.startsWith('application/problem+json') && r.body && typeof r.body === 'object' ? { ...r.body, instance: problemInstance(req.url) } : r.body;
  return reply.code(r.status).type(r.contentType).send(body);
}
