#!/usr/bin/env node
// Foreground dev broker:
//   node dist/services/local-kafka/main.js start [--nodes 3] [--data-dir DIR] [--heap-mb N] [--plaintext]
// Prints the client settings (KAFKA_BROKERS, KAFKA_SSL_CA_FILE, KAFKA_CREDENTIALS_DIR), runs
// until Ctrl-C / SIGTERM, then stops the broker(s) cleanly.
// Without --data-dir the data is thrown away on exit; with it, topics survive restarts.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalKafka } from './local-kafka.js';

const USAGE = 'usage: main.js start [--nodes 1|3] [--data-dir DIR] [--heap-mb N] [--plaintext]\n';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      nodes: { type: 'string', default: '1' },
      'data-dir': { type: 'string' },
      'heap-mb': { type: 'string' },
      plaintext: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'start' || positionals.length !== 1) {
    process.stderr.write(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const nodes = Number(values.nodes);
  if (nodes !== 1 && nodes !== 3) {
    process.stderr.write(`--nodes must be 1 or 3\n${USAGE}`);
    process.exit(2);
  }
  const heapMb = values['heap-mb'] ? Number(values['heap-mb']) : undefined;
  if (heapMb !== undefined && !(heapMb >= 128)) {
    process.stderr.write(`--heap-mb must be a number >= 128\n${USAGE}`);
    process.exit(2);
  }

  const kafka = await startLocalKafka({
    nodes: nodes as 1 | 3,
    dataDir: values['data-dir'],
    heapMb,
    plaintext: values.plaintext === true,
    log: (line) => process.stderr.write(line + '\n'),
  });
  // stdout carries only the settings (first line the address), so `$(node main.js start | head -1)`
  // and `export $(…)`-style use stay easy. Paths only: the passwords stay in their files.
  for (const [name, value] of Object.entries(kafka.clientEnv())) process.stdout.write(`${name}=${value}\n`);
  process.stderr.write(`broker logs: ${kafka.dataDir}/node-*/logs/server.log — Ctrl-C to stop\n`);

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) process.exit(code); // second Ctrl-C: give up waiting (exit handler SIGKILLs java)
    stopping = true;
    clearInterval(watch);
    await kafka.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  // A broker that dies on its own (bad config, OOM, disk full) should not leave us sitting here.
  const expected = kafka.pids.length;
  const watch = setInterval(() => {
    if (kafka.pids.length < expected) {
      clearInterval(watch);
      void (async () => {
        // Show the logs now: stop() deletes a temp data dir, and the logs with it.
        for (let id = 1; id <= expected; id++) {
          const file = path.join(kafka.dataDir, `node-${id}`, 'logs', 'server.log');
          const lines = (await readFile(file, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-15);
          process.stderr.write(`--- ${file} (tail) ---\n${lines.join('\n')}\n`);
        }
        process.stderr.write('a Kafka node exited unexpectedly; stopping\n');
        await shutdown(1);
      })();
    }
  }, 1000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
