// A small stack of service processes (real SIGTERM, real exit codes) on npm test's broker and a
// PostgreSQL server of its own, delivering to a ChaosReceiver; torn down with the test.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosStack } from '../chaos/chaos-stack.js';
import { ChaosReceiver } from '../chaos/receiver.js';

interface TapTest {
  teardown(fn: () => unknown): void;
  comment(line: string): void;
}

export async function startProcessStack(
  t: TapTest,
  opts: { name: string; audits: number; env: Record<string, string>; receiverDelayMs?: number },
): Promise<{ stack: ChaosStack; receiver: ChaosReceiver }> {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run with `npm test`');
  const dataDir = mkdtempSync(join(tmpdir(), `lgsp-${opts.name}-`));
  // Run as root, PostgreSQL runs as its own user and must reach its data dir below.
  chmodSync(dataDir, 0o755);
  const receiver = new ChaosReceiver(opts.receiverDelayMs);
  await receiver.start();
  const stack = new ChaosStack({
    dataDir,
    gateways: 1,
    runners: 1,
    audits: opts.audits,
    console: false,
    receiverUrl: receiver.url,
    externalBrokers: brokers,
    topicPrefix: `${opts.name}-${Date.now().toString(36)}.`,
    env: opts.env,
    log: (line) => t.comment(line),
  });
  t.teardown(async () => {
    await stack.close();
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await stack.start();
  return { stack, receiver };
}
