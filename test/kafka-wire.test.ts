// Wire check: with the broker secured, a packet capture of the loopback traffic to Kafka while a
// message travels the bus holds no byte of its payload. Run against a plaintext broker (the guard
// removed), the same capture does hold the marker: the check can fail. Needs tcpdump (and the
// right to capture on lo); failing, saying so, without them or on a plaintext broker.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { testKafkaSettings } from './helpers/test-kafka.js';
import { captureLoopback, tcpdumpMissing } from './helpers/packet-capture.js';

const plaintext = testKafkaSettings().kafkaPlaintext;

t.test('no payload byte on the wire to Kafka', async (t) => {
  // Missing tcpdump or a plaintext broker fails the check instead of skipping it (CI installs tcpdump).
  if (tcpdumpMissing) return t.fail('tcpdump is not installed');
  if (plaintext) return t.fail('plaintext broker: the wire carries the payload by design');
  const bus = await startTestBus(t, { name: 'wire' });
  const sender = bus.client('so-tttt-qlvb');
  await sender.accessToken();
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-wire-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kafkaPorts = bus.config.kafkaBrokers.map((b) => b.split(':')[1]);
  const kafkaCapture = await captureLoopback(join(dir, 'kafka.pcap'), kafkaPorts.map((p) => `tcp port ${p}`).join(' or '));
  t.teardown(() => kafkaCapture.stop());

  // tcpdump says "listening" a moment before packets reach the file: wait until it grows (the
  // consumers poll Kafka all the time).
  const PCAP_HEADER_BYTES = 24;
  await eventually(() => statSync(join(dir, 'kafka.pcap')).size > PCAP_HEADER_BYTES, 20_000, 200);

  const marker = `WIRE-MARKER-${randomUUID()}`;
  const submitted = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: marker, body: `${marker} trong nội dung` } });
  t.equal(submitted.status, 202);
  const received = await eventually(() => bus.simulator.received.get('so-tp-qlvb')?.find((m) => m.id === submitted.body.id));
  t.equal((received.envelope.data as { subject: string }).subject, marker, 'the receiver got the payload intact');
  await eventually(async () => ((await sender.status(submitted.body.id)).body.status === 'delivered' ? true : null));
  await kafkaCapture.stop();

  const kafkaBytes = readFileSync(join(dir, 'kafka.pcap'));
  t.ok(statSync(join(dir, 'kafka.pcap')).size > 10_000, `the Kafka capture holds the traffic (${kafkaBytes.length} bytes)`);
  t.notOk(kafkaBytes.includes(Buffer.from(marker)), 'the marker is nowhere in the Kafka capture');
  t.notOk(kafkaBytes.includes(Buffer.from('trong nội dung')), 'nor the rest of the payload');
});
