// An agency system of a test's own that takes every delivery (200) and keeps the message ids it
// received, for a system the test adds to the registry while the bus runs.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startReceivingSystem(t: { teardown(fn: () => unknown): void }): Promise<{ endpoint: string; received: string[] }> {
  const received: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['lgsp-message-id']));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox`, received };
}
