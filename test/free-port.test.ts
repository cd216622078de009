// Ports for servers that must be addressed before they start come from below the kernel's
// ephemeral range, where no connect() or port-0 bind can take them between pick and bind.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort, freePorts, pickRange, preferredPort } from '../services/local-processes/free-port.js';

t.test('ports are picked below the ephemeral range, distinct, and bindable', async (t) => {
  const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const { low, high } = pickRange();
  t.equal(high, ephemeralLow - 1, 'the range ends right below the ephemeral range');
  t.ok(low > 1024 && low < high, `a range of ${high - low + 1} ports`);

  const ports = await freePorts(20);
  t.equal(new Set(ports).size, 20, 'distinct');
  t.ok(ports.every((p) => p >= low && p <= high), 'all in the range');

  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  t.ok(server.listening, `a picked port can be bound (${port})`);
  t.not(await freePort(), port, 'a port in use is not handed out');
});

t.test('a preferred port is kept while it is free, and replaced when it is not', async (t) => {
  const port = await freePort();
  t.equal(await preferredPort(port), port, 'free: the same port again (the console keeps its address)');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  t.not(await preferredPort(port), port, 'taken meanwhile: another free port');
  t.ok((await preferredPort(undefined)) > 1024, 'none recorded: a free port');
  t.ok((await preferredPort(80)) > 1024, 'a privileged or odd value is not tried');
});
