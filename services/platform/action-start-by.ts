// An operator action the console relays to a runner (pause, resume, restart) carries the time by
// which the runner must start it, or not at all. The console stops waiting after its timeout (a
// hung runner, frozen or overloaded, is said within seconds) and records the action as failed;
// a runner that got the request all the same and took it up once it ran again carried out, later,
// an action the operator had been told was not done (found in a walk: a pause answered 502, the
// connector PAUSED seconds afterwards, messages piling up). The deadline is a little before the
// console gives up, so an action a runner starts is one the console still waits for.
import type { FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

export const START_BY_HEADER = 'lgsp-start-by';

/** The header's value for an action the caller waits for `waitMs`, leaving `marginMs` for the answer to come back. */
export function startByHeader(waitMs: number, marginMs = 1_000, now = Date.now()): Record<string, string> {
  return { [START_BY_HEADER]: new Date(now + Math.max(0, waitMs - marginMs)).toISOString() };
}

/**
 * Refuses (408 REQUEST_TIMEOUT) an action whose start-by time has passed: its caller has stopped
 * waiting and said it was not done. A request without the header (an operator calling the runner
 * directly) or with one that does not parse is taken as before.
 */
export function refuseIfTooLate(req: FastifyRequest, now = Date.now()): void {
  const value = req.headers[START_BY_HEADER];
  if (typeof value !== 'string') return;
  const by = Date.parse(value);
  if (Number.isNaN(by) || now <= by) return;
  req.log.warn({ startBy: value, late: now - by, url: req.url }, 'an operator action reached the runner after its caller stopped waiting; not carried out');
  throw new ProblemError(408, 'REQUEST_TIMEOUT', 'Request timeout', `This action was to start by ${value} (${START_BY_HEADER}); it reached the runner ${((now - by) / 1000).toFixed(1)} s later, after its caller had stopped waiting, and was not carried out`);
}
