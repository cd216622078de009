// The integrity check reads the checkpoints published on Kafka before it checks the chain, and
// answers from the database alone when it cannot. With Kafka down it waited out the client's own
// connection retries — tens of seconds — before that answer: the read now has one deadline,
// connecting included, and a broker that accepts connections and never answers meets it too.
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { readPublishedCheckpoints } from '../services/audit/checkpoint-topic.js';
import { freePort } from '../services/local-processes/free-port.js';

// The bus's client settings (kafka-transport.ts createKafka): bounded retries, 3 s to connect, 10 s a request.
const kafkaAt = (port: number) => new Kafka({ clientId: 'checkpoints-kafka-down', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000, retry: { initialRetryTime: 200, retries: 3, maxRetryTime: 2000 } });

async function timed(read: Promise<string[]>): Promise<{ ms: number; err: Error | null }> {
  const started = Date.now();
  try {
    await read;
    return { ms: Date.now() - started, err: null };
  } catch (err) {
    return { ms: Date.now() - started, err: err as Error };
  }
}

t.test('nothing listening: refused within the deadline, saying why', async (t) => {
  const { ms, err } = await timed(readPublishedCheckpoints(kafkaAt(await freePort()), 'lgsp.audit.checkpoints', 'test.', 1500));
  t.ok(err, 'the read fails');
  t.ok(ms < 5000, `within the deadline, not after the client's retries (${ms} ms)`);
  t.match(err?.message, /nothing arrived for 1500 ms|ECONNREFUSED|connect/i, 'naming what happened');
});

t.test('a broker that accepts and never answers: the deadline ends the read', async (t) => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as { port: number }).port;
  const { ms, err } = await timed(readPublishedCheckpoints(kafkaAt(port), 'lgsp.audit.checkpoints', 'test.', 1500));
  t.match(err?.message, /nothing arrived for 1500 ms \(is Kafka reachable\?\)/, 'the deadline, named');
  t.ok(ms >= 1400 && ms < 5000, `at the deadline (${ms} ms)`);
});
