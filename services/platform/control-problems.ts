// The simulators' own control endpoints (`/_admin/…`: fault modes, knobs, what a simulated system
// received) answer errors as RFC 9457 problem+json with a stable `code`, as every service of the
// bus does: a mode it does not know ("dwon") was a plain JSON body of another shape in each
// simulator. What a simulator answers in the name of the system it imitates keeps that system's
// own shape (the mock portal's DVCQG `error_code`/`message`, the reporting system's
// `ma`/`moTa`/`loi`, a simulated agency system's answer to a delivery, which the bus reads only
// the status of): those are not changed here. What Fastify itself refuses on any other path (a
// malformed body, an unknown path) is problem+json too, except on the mock portal, whose API
// answers those in the portal's shape.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fieldErrorsDetail, problems, type FieldError, type ProblemError } from './problem.js';
import { problemOf, sendProblem } from './problem-handler.js';

/** Whether a request is for one of a simulator's control endpoints. */
export function isControlPath(url: string): boolean {
  const path = url.split('?')[0];
  return path === '/_admin' || path.startsWith('/_admin/');
}

/** A control endpoint's refusal of a query parameter (`querystring.<name>` in `errors`, as the bus names one). */
export function invalidControlQuery(name: string, message: string): ProblemError {
  const errors: FieldError[] = [{ field: `querystring.${name}`, message }];
  return problems.validation(fieldErrorsDetail(errors, 'querystring'), errors);
}

/** A control endpoint's refusal of its JSON body (`errors` naming the body's fields bare, as the bus does). */
export function invalidControlBody(errors: FieldError[]): ProblemError {
  return problems.validation(fieldErrorsDetail(errors, 'body'), errors);
}

/** Sends a control endpoint's problem (problem+json, `instance` the path). */
export function sendControlProblem(reply: FastifyReply, problem: ProblemError, req: FastifyRequest): FastifyReply {
  return sendProblem(reply, problem, req.url);
}

/**
 * The error and not-found handlers of a simulator: problem+json, as the bus answers. `imitated`:
 * the handlers for the paths of the system it imitates when that system has an error shape of its
 * own (the mock portal's DVCQG API); the control endpoints answer problem+json whatever it says.
 */
export function controlProblems(
  app: FastifyInstance,
  opts: {
    imitated?: { error: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => unknown; notFound: (req: FastifyRequest, reply: FastifyReply) => unknown };
  } = {},
): void {
  // What a too-large body is told: the app's own limit (Fastify's default, 1 MiB, when it set none).
  const maxBodyBytes = app.initialConfig.bodyLimit ?? 1024 * 1024;
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (opts.imitated && !isControlPath(req.url)) return opts.imitated.error(err, req, reply);
    const problem = problemOf(err, req, maxBodyBytes);
    if (problem.status >= 500) req.log.error({ err }, 'simulator error');
    return sendControlProblem(reply, problem, req);
  });
  app.setNotFoundHandler((req, reply) => {
    if (opts.imitated && !isControlPath(req.url)) return opts.imitated.notFound(req, reply);
    return sendControlProblem(reply, problems.notFound('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`), req);
  });
}
