// An HTTP request whose headers are sent at once and whose body is not (yet): what a slow or
// stalled client looks like to a server that counts bodies in flight.
import { connect, type Socket } from 'node:net';

/** Opens a POST to `path` announcing `length` body bytes (or a chunked body) and sends only its first bytes. */
export function startSlowPost(port: number, path: string, opts: { length?: number; chunked?: boolean; headers?: Record<string, string> }): Promise<Socket> {
  const framing = opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(opts.length ?? 0) };
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const lines = Object.entries({ host: '127.0.0.1', 'content-type': 'application/json', ...opts.headers, ...framing }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${opts.chunked ? '9\r\n' : ''}{"body":"${opts.chunked ? '\r\n' : ''}`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Sends the rest of a startSlowPost body of `length` bytes; resolves with the response's head. */
export function finishSlowPost(socket: Socket, length: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
      if (answer.includes('\r\n\r\n')) resolve(answer);
    });
    socket.write('x'.repeat(length - '{"body":"'.length - 2) + '"}');
  });
}
