// `Expect: 100-continue` (RFC 9110 §10.1.1): a client announcing a body asks whether to send it.
// Node answers "100 Continue" the moment the headers arrive, before any route, token check or
// size limit has looked at them, so a client announcing 50 MB, or sending no token, was invited
// to send the body it would then be refused for (413, 401). Here the 100 goes out only when a
// route starts reading the body: every refusal that needs no body (401, 403, 404, 405, 413 by
// Content-Length, 415, 429, 503 busy) is the final answer instead, and Node closes the
// connection after it (the client might send the body anyway), so nothing unread is left on it.
// An expectation other than 100-continue is 417 in problem+json like every other refusal
// (Node's own 417 has no body).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ProblemError } from './problem.js';
import { ANSWER_SECURITY_HEADERS } from './security-headers.js';

/** Servers already set up: a second 'checkContinue' listener would dispatch each request twice. */
const deferring = new WeakSet<Server>();

export function deferContinue(server: Server): void {
  if (deferring.has(server)) return;
  deferring.add(server);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    // 'resume' is the body starting to flow: the route's parser attached its reader.
    req.once('resume', () => {
      if (!res.headersSent && !res.writableEnded) res.writeContinue();
    });
    server.emit('request', req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const problem = new ProblemError(417, 'EXPECTATION_FAILED', 'Expectation failed', 'The only expectation this service meets is "Expect: 100-continue"');
    const body = JSON.stringify(problem.toBody(req.url?.split('?')[0]));
    res.writeHead(417, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), ...ANSWER_SECURITY_HEADERS, connection: 'close' });
    res.end(body);
  });
}
