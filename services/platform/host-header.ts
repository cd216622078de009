// RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host line, and a server answers 400 to
// one without it or with several. Node refused the missing Host itself, with an empty 400 (no
// problem+json, unlike every other refusal), and took the first of two Host lines silently
// while a proxy in front may have routed on the other. Both are checked here instead
// (service-server-options.ts turns Node's own check off). HTTP/1.0 requests need no Host.
import type { FastifyRequest } from 'fastify';
import { headerLineCount } from './header-lines.js';
import { problems, type ProblemError } from './problem.js';

/** Why the request's Host lines are refused, or null when they are fine. */
export function hostHeaderProblem(req: FastifyRequest): ProblemError | null {
  const raw = req.raw;
  if (raw.httpVersionMajor !== 1 || raw.httpVersionMinor < 1) return null;
  const lines = headerLineCount(req, 'host');
  if (lines === 1) return null;
  return problems.badRequest(lines === 0
    ? 'An HTTP/1.1 request needs a Host header (RFC 9112 §3.2)'
    : 'Send the Host header once: this request carries several (RFC 9112 §3.2)');
}
