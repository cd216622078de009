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
  init: { method?: string; token: string; query?: Record<string, unknown>; timeoutMs?: number },
): Promise<UpstreamResponse> {
  if (!base) throw new ProblemError(503, 'UPSTREAM_NOT_CONFIGURED', 'Service unavailable', `The console is not configured with the ${what} URL`);
  const url = new URL(path, base);
  // Forwarded as the operator wrote them: an empty value or a repeated parameter is the
  // upstream service's to judge (it refuses what it cannot honour), never dropped or merged here.
  for (const [k, v] of Object.entries(init.query ?? {})) {
    if (v === undefined || v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The ${what} did not answer: ${(err as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The ${what} answered ${response.status} with a body that is not JSON`);
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body };
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
