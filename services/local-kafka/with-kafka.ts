#!/usr/bin/env node
// Runs a command against a Kafka broker and a PostgreSQL server:
//   node dist/services/local-kafka/with-kafka.js -- <command> [args...]
// With KAFKA_BROKERS already set (CI with a real cluster, or a broker started by main.ts) the
// command uses that broker; otherwise a throwaway single-node broker is started for the duration
// of the command and KAFKA_BROKERS points at it. The same for DATABASE_URL: unset, a throwaway
// local PostgreSQL is started next to the broker. Exit code = the command's exit code.
// The throwaway broker is secured (TLS, SCRAM, ACLs): the command gets KAFKA_SSL_CA_FILE and
// KAFKA_CREDENTIALS_DIR (one credentials file per principal; the tests' admin grants each bus's
// ACLs). LGSP_KAFKA_PLAINTEXT=1 starts a plaintext broker instead. The throwaway PostgreSQL
// serves TLS with a password (DATABASE_URL carries sslmode=verify-full and the CA file);
// LGSP_POSTGRES_PLAINTEXT=1 starts it without TLS.

import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { startLocalKafka, type LocalKafka } from './local-kafka.js';
import { startLocalPostgres, type LocalPostgres } from '../local-postgres/local-postgres.js';

function usage(): never {
  process.stderr.write('usage: with-kafka -- <command> [args...]\n');
  process.exit(2);
}

/** The exit code a shell would report for the child (128 + signal number when killed). */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<number> } {
  const child = spawn(command, args, { stdio: 'inherit', env });
  const done = new Promise<number>((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`[with-kafka] could not run ${command}: ${err.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
  });
  return { child, done };
}

async function main(): Promise<void> {
  const sep = process.argv.indexOf('--');
  const [command, ...args] = sep >= 0 ? process.argv.slice(sep + 1) : process.argv.slice(2);
  if (!command) usage();

  let child: ChildProcess | undefined;
  let signalled = 0;
  // First Ctrl-C/SIGTERM: pass it on to the command and let the normal path stop the broker when
  // the command exits. A second one: stop now (the java processes are SIGKILLed by the
  // exit handler in local-kafka.ts).
  // While the broker is still starting, the first signal is only noted (checked right after).
  const onSignal = (signal: NodeJS.Signals) => {
    signalled++;
    if (signalled > 1) process.exit(exitCodeOf(null, signal));
    child?.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const env: NodeJS.ProcessEnv = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
  const startingPostgres = process.env.DATABASE_URL
    ? undefined
    : (async () => {
        const t0 = Date.now();
        const started = await startLocalPostgres({ plaintext: process.env.LGSP_POSTGRES_PLAINTEXT === '1' });
        process.stderr.write(`[with-kafka] local PostgreSQL at 127.0.0.1:${started.port}${started.caFile ? ' over TLS' : ' (PLAINTEXT)'} (started in ${((Date.now() - t0) / 1000).toFixed(1)} s, log in ${started.dataDir}/postgres.log)\n`);
        return started;
      })();
  // Started side by side; if one fails the other is stopped before we give up.
  const startingKafka = process.env.KAFKA_BROKERS
    ? undefined
    : (async () => {
        const t0 = Date.now();
        const started = await startLocalKafka({ nodes: 1, plaintext: process.env.LGSP_KAFKA_PLAINTEXT === '1' });
        process.stderr.write(
          `[with-kafka] local Kafka at ${started.bootstrap} (started in ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
            `logs in ${started.dataDir})\n`,
        );
        return started;
      })();
  const [kafkaResult, postgresResult] = await Promise.allSettled([startingKafka, startingPostgres]);
  const kafka: LocalKafka | undefined = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined;
  const postgres: LocalPostgres | undefined = postgresResult.status === 'fulfilled' ? postgresResult.value : undefined;
  const failed = [kafkaResult, postgresResult].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed || signalled) {
    await Promise.all([kafka?.stop(), postgres?.stop()]);
    if (failed) throw failed.reason;
    process.exit(130);
  }
  if (kafka) Object.assign(env, kafka.clientEnv());
  else process.stderr.write(`[with-kafka] using KAFKA_BROKERS=${process.env.KAFKA_BROKERS}\n`);
  if (postgres) env.DATABASE_URL = postgres.url;
  else process.stderr.write('[with-kafka] using DATABASE_URL from the environment\n');

  const running = run(command, args, env);
  child = running.child;
  const code = await running.done;
  await Promise.all([kafka?.stop(), postgres?.stop()]);
  process.exit(code);
}

main().catch((err: unknown) => {
  process.stderr.write(`[with-kafka] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
