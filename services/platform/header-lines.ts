// Node keeps only the first of several lines of most single-value headers (Authorization,
// Content-Type, …) and drops the others unseen: a request carrying one twice would be served as
// the first, while something in front of the service may have acted on the other. Counting the
// raw lines is how a service notices (bearer-auth.ts, problem-handler.ts).
import type { FastifyRequest } from 'fastify';

/** How many header lines named `name` (lower case) the request carried, the duplicates Node dropped included. */
export function headerLineCount(req: FastifyRequest, name: string): number {
  const raw = req.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) count++;
  return count;
}
