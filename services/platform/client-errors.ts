// Fastify's `clientErrorHandler`, for every service: requests Node's HTTP parser refuses before
// Fastify sees them (headers over the size limit, a malformed request line or header,
// Content-Length beside Transfer-Encoding, headers not received in time) answered as
// problem+json like everything else, instead of Fastify's own JSON shape.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ProblemError, problems } from './problem.js';

interface ParserError extends Error {
  code?: string;
  /** llhttp's fixed description of what it refused, e.g. "Invalid header value char". */
  reason?: string;
}

export function clientErrors(err: ParserError, socket: Duplex): void {
  // A connection the client reset has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const problem = problemFor(err);
    const body = JSON.stringify(problem.toBody());
    // Copying Node's own behaviour (and Fastify's default): one answer, then the connection
    // closes, since the parser cannot tell where the next request would begin.
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

function problemFor(err: ParserError): ProblemError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return new ProblemError(431, 'HEADERS_TOO_LARGE', 'Request header fields too large', 'The request line and headers together exceed the size this service accepts');
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new ProblemError(408, 'REQUEST_TIMEOUT', 'Request timeout', 'The request was not received in time');
  const reason = typeof err.reason === 'string' && /^[\x20-\x7e]{1,200}$/.test(err.reason) ? `: ${err.reason}` : '';
  return problems.badRequest(`The request is not valid HTTP/1.1${reason}`);
}
