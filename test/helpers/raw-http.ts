// Raw HTTP/1.1 exchanges for tests of what reaches a service before any route: bytes written as
// they are (no client library fixing them up), the answer read as it came.
import { connect } from 'node:net';

/**
 * Writes `bytes` on a new connection and resolves with everything read once the server closed
 * it, or after `waitMs` (the connection is then closed from this side).
 */
export function rawExchange(port: number, bytes: string | Buffer, waitMs = 2000): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', reject);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ answer, closed: false });
    }, waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, closed: true });
    });
    socket.write(bytes);
  });
}

/** The status, lower-cased head and JSON body of the first answer in `answer`. */
export function parseAnswer(answer: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head, body] = answer.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}
