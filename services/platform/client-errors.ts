// Fastify's `clientErrorHandler`, for every service: requests Node's HTTP parser refuses before
// Fastify sees them (headers over the size limit, a malformed request line or header,
// Content-Length beside Transfer-Encoding, headers not received in time) answered as
// problem+json like everything else, instead of Fastify's own JSON shape.
import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ProblemError, problems } from './problem.js';
import { SECURITY_HEADER_LINES } from './security-headers.js';

interface ParserError extends Error {
  code?: string;
  /** llhttp's fixed description of what it refused, e.g. "Invalid header value char". */
  reason?: string;
}

/** What Node's HTTP server keeps on a connection's socket (long-standing internals, no API). */
interface HttpSocket extends Duplex {
  /** The answer being written on this connection now, if any (Node queues pipelined ones). */
  _httpMessage?: ServerResponse | null;
  /** The connection's parser; `incoming` is the last request it parsed (or is parsing). */
  parser?: { incoming?: IncomingMessage | null } | null;
}

/**
 * How long the refusal waits behind answers still due on the connection. The longest answer a
 * service gives is under a minute (Prefer: wait ≤ 30 s; a produce 10 s plus a statement 15 s):
 * past this the connection is closed unanswered rather than held.
 */
export const PENDING_ANSWERS_MAX_MS = 60_000;

/** Connections whose refusal waits for the answers due before it (a second error is the same one). */
const refusing = new WeakSet<Duplex>();

export function clientErrors(err: ParserError, socket: Duplex): void {
  // A connection the client reset has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed || refusing.has(socket)) return;
  const http = socket as HttpSocket;
  // Bytes that are not HTTP after a complete request (a Content-Length counting characters, not
  // the bytes of a Vietnamese body, leaves the rest of the body on the wire): that request is
  // being handled, perhaps accepted. Refusing at once would put this 400 in its place and close
  // the connection, so the caller would read "refused" for a message the bus accepted, and send
  // it again. Its answer (and any pipelined before the error) goes first, in order (RFC 9112
  // §9.3.2); then the refusal, then the connection closes. An error inside a request (its own
  // body) has no answer of its own coming: refused at once, as before.
  if (http._httpMessage && http.parser?.incoming?.complete !== false) {
    refusing.add(socket);
    socket.pause();
    const giveUp = setTimeout(() => socket.destroy(err), PENDING_ANSWERS_MAX_MS);
    giveUp.unref();
    socket.once('close', () => clearTimeout(giveUp));
    afterPendingAnswers(http, () => {
      clearTimeout(giveUp);
      refuse(err, socket, ' (after the end of the previous request: does its Content-Length count the bytes of its body?)');
    });
    return;
  }
  refuse(err, socket, '');
}

/** Calls `then` once the connection has no answer left to write (or has closed). */
function afterPendingAnswers(socket: HttpSocket, then: () => void): void {
  const pending = socket._httpMessage;
  if (!pending || socket.destroyed) {
    then();
    return;
  }
  // Node hands the connection to the next queued answer in its own 'finish' listener; look again
  // once it has.
  pending.once('finish', () => setImmediate(() => afterPendingAnswers(socket, then)));
}


function refuse(err: ParserError, socket: Duplex, hint: string): void {
  writeRefusal(problemFor(err, hint), socket);
  socket.destroy(err);
}

/** Writes `problem` as the connection's last answer (the caller closes it). */
function writeRefusal(problem: ProblemError, socket: Duplex): void {
  if (socket.writable && !socket.destroyed) {
    const body = JSON.stringify(problem.toBody());
    // Copying Node's own behaviour (and Fastify's default): one answer, then the connection
    // closes, since the parser cannot tell where the next request would begin.
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${SECURITY_HEADER_LINES}Connection: close\r\n\r\n${body}`,
    );
  }
}

/**
 * CONNECT asks for a tunnel. Node hands such a request to the server's 'connect' listeners only
 * (never to Fastify), and with none it closed the connection without a word: the caller could not
 * tell a refusal from a network fault. No service is a proxy: 501, then the connection closes
 * (after a CONNECT the bytes that follow are not HTTP any more).
 */
export function refuseTunnels(server: Server): void {
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    writeRefusal(new ProblemError(501, 'METHOD_NOT_IMPLEMENTED', 'Method not implemented', 'CONNECT is not implemented: this service is not a proxy'), socket);
    socket.end(() => socket.destroy());
  });
}

/**
 * A connection that went silent past the server's idle timeout (the gateway's
 * LGSP_CONNECTION_IDLE_TIMEOUT_MS) is closed; Node did it without a word, so a client whose
 * upload stalled (a commune's link dropping mid-body) read a bare reset and could not tell it
 * from a crash of the gateway. While a request's body is still due and nothing has been answered
 * for it, it is answered 408 REQUEST_TIMEOUT (problem+json, `Connection: close`) before the
 * close; nothing of it was kept, since no route ran on an incomplete body. Between requests (an
 * idle keep-alive connection) there is nobody waiting for an answer: closed as before.
 * With a listener on 'timeout' Node no longer closes the socket itself: every path here does.
 */
export function answerStalledRequests(server: Server): void {
  server.on('timeout', (socket: Duplex) => {
    const http = socket as HttpSocket;
    const incoming = http.parser?.incoming;
    if (incoming && incoming.complete === false && !http._httpMessage?.headersSent && !refusing.has(socket)) {
      const seconds = Math.round(server.timeout / 1000);
      refusing.add(socket);
      writeRefusal(new ProblemError(408, 'REQUEST_TIMEOUT', 'Request timeout', `The request's body stopped arriving: nothing came for ${seconds} s, and the connection is closed. Nothing of it was kept; send it again (with the same Idempotency-Key)`), socket);
      // Closed once the answer is written out (a destroy at once could drop it unsent), and in any
      // case within a second: a client that reads nothing cannot hold the connection.
      setTimeout(() => socket.destroy(), 1000).unref();
      socket.end(() => socket.destroy());
      return;
    }
    socket.destroy();
  });
}

function problemFor(err: ParserError, hint: string): ProblemError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // Node's limit for every server of the process (no service sets its own): said in the answer.
    return new ProblemError(431, 'HEADERS_TOO_LARGE', 'Request header fields too large', `The request line and headers together exceed the ${maxHeaderSize} bytes this service accepts`);
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new ProblemError(408, 'REQUEST_TIMEOUT', 'Request timeout', 'The request was not received in time');
  const reason = typeof err.reason === 'string' && /^[\x20-\x7e]{1,200}$/.test(err.reason) ? `: ${err.reason}` : '';
  return problems.badRequest(`The request is not valid HTTP/1.1${reason}${hint}`);
}
