#!/usr/bin/env node
// `lgsp` — the operator command line. Each subcommand lives with the service it belongs to;
// this file only dispatches.
import { loadConfig } from '../platform/config.js';
import { parseCommandArgs, UsageError } from './cli-args.js';
import type { ClientCredentials } from '../platform/bus-client.js';

const USAGE = `usage: lgsp <command>

  start [--gateways N] [--runners M] [--brokers 1|3]
                             run the whole local stack (Kafka, PostgreSQL, gateways, runners, audit, simulators)
  audit verify [--database URL] [--keys F] [--brokers B]
                             recompute the audit hash chain and check every signed checkpoint
  db migrate [--database URL]
                             apply schema migrations and the service roles' grants as the owner
  token <clientId> [--dir D]  print an access token for a dev client (.lgsp/dev/clients/<clientId>.json)
  secret new                 a new client secret and its registry secretHash (JSON), for a system
                             that signs in with client_secret_basic or whose secret leaked
  keys init                  create each service's signing keys and the public keyset (first run)
  keys rotate [--purpose P] [--service S]
                             new signing keys (published first; the old ones verify for a grace
                             period; running services switch without a restart)
  kafka start [--nodes 3]    run a local Kafka broker (or a 3-node cluster) in the foreground
  connector new <name> [--type <message.type>]
                             scaffold a connector with a schema, an example and tests
  connector list | describe <name>
                             the connectors the runner would load; one connector's settings
`;

/**
 * An error's message with what caused it: Node's fetch says only "fetch failed", its cause says
 * why (connect ECONNREFUSED 127.0.0.1:8080, getaddrinfo ENOTFOUND gateway.example).
 */
function withCause(err: Error): string {
  const cause = err.cause as (Error & { code?: string; errors?: Error[] }) | undefined;
  if (!cause) return err.message;
  const why = cause.message || cause.errors?.map((e) => e.message).join('; ') || cause.code || String(cause);
  return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  // `lgsp <anything> --help`: the usage of every command (each line names its options).
  if (argv.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (command) {
    case 'start': {
      const { runLocalStack, parseStackArgs, stackDataDir } = await import('../stack/local-stack.js');
      const { stackRunningElsewhere } = await import('../stack/stack-file.js');
      let options;
      try {
        options = parseStackArgs(argv.slice(1));
      } catch (err) {
        console.error((err as Error).message);
        return 2;
      }
      // Every service reads this environment: a value none of them takes (LOG_LEVEL=DEBUG) is
      // said once, before the broker and PostgreSQL start, not as each service's crash, for ever.
      try {
        loadConfig();
      } catch (err) {
        process.stderr.write(`lgsp start: ${(err as Error).message}\n`);
        return 2;
      }
      // A second start on a running stack's data dir (another terminal) would fail on its broker's
      // and PostgreSQL's locks, and stopping its own took the running ones down with it.
      const dataDir = stackDataDir();
      const other = stackRunningElsewhere(dataDir);
      if (other) {
        process.stderr.write(
          `lgsp start: a stack is already ${other.state} on ${dataDir} (pid ${other.pid}): stop it first (Ctrl-C in its terminal, or kill -INT ${other.pid}), or start this one with another LGSP_DATA_DIR\n`,
        );
        return 2;
      }
      await runLocalStack(options);
      return -1; // keeps running until Ctrl-C
    }
    case 'audit':
      if (sub === 'verify') {
        const { runAuditVerify } = await import('../audit/verify-command.js');
        return runAuditVerify(rest);
      }
      break;
    case 'db': {
      const { runDbCommand } = await import('./db-command.js');
      return runDbCommand(argv.slice(1));
    }
    case 'token': {
      if (!sub) throw new UsageError('token needs a client id');
      const { existsSync, readFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { BusClient } = await import('../platform/bus-client.js');
      const { values, positionals } = parseCommandArgs(rest, { dir: { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
      const dir = values.dir ?? join(loadConfig().dataDir, 'clients');
      const file = join(dir, `${sub}.json`);
      if (!existsSync(file)) throw new UsageError(`no credentials for client "${sub}" in ${dir} (npm start writes the dev clients' files there; --dir names another folder)`);
      // A file cut short, hand-edited or from elsewhere is said in one line, naming the file.
      let creds: ClientCredentials & { tokenUrl: string };
      let issuer: string;
      try {
        creds = JSON.parse(readFileSync(file, 'utf8')) as ClientCredentials & { tokenUrl: string };
        if (typeof creds?.tokenUrl !== 'string') throw new Error('it has no tokenUrl');
        issuer = new URL(creds.tokenUrl).origin;
      } catch (err) {
        process.stderr.write(`lgsp: ${file} is not a usable dev client credentials file: ${(err as Error).message}\n`);
        return 1;
      }
      let token: string;
      try {
        token = await new BusClient(issuer, creds).accessToken();
      } catch (err) {
        // A refusal (a disabled client, a key the registry no longer holds) or a gateway that does
        // not answer is the answer the operator asked for: said in one line, not as a crash.
        process.stderr.write(`lgsp: no token for "${sub}" from ${creds.tokenUrl}: ${withCause(err as Error)}\n`);
        return 1;
      }
      process.stdout.write(token + '\n');
      return 0;
    }
    case 'secret': {
      // Only a new secret: one typed on a command line would stay in the shell history.
      if (sub !== 'new' || rest.length > 0) throw new UsageError(`unknown secret command "${[sub, ...rest].filter(Boolean).join(' ')}" (lgsp secret new makes a secret and its hash)`);
      const { randomBytes } = await import('node:crypto');
      const { hashSecret } = await import('../platform/secret-hash.js');
      const clientSecret = randomBytes(24).toString('base64url');
      process.stdout.write(JSON.stringify({ clientSecret, secretHash: hashSecret(clientSecret) }, null, 2) + '\n');
      return 0;
    }
    case 'keys': {
      const { runKeysCommand } = await import('./keys-command.js');
      return runKeysCommand(argv.slice(1));
    }
    case 'connector': {
      const { runConnectorCommand } = await import('./connector-command.js');
      return runConnectorCommand(argv.slice(1));
    }
    case 'kafka':
      if (sub === 'start') {
        // local-kafka/main.ts parses its own options (parseArgs, like every command here).
        process.argv = [process.argv[0], process.argv[1], 'start', ...rest];
        await import('../local-kafka/main.js');
        return -1;
      }
      break;
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
  }
  process.stderr.write(`lgsp: unknown command "${argv.join(' ')}"\n${USAGE}`);
  return 2;
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`lgsp: ${err.message}\n${USAGE}`);
    code = 2;
  } else {
    // What a command did not expect is still said to an operator in one line, not as a stack
    // trace (LOG_LEVEL=debug shows the stack).
    process.stderr.write(`lgsp: ${withCause(err as Error)}\n${process.env.LOG_LEVEL === 'debug' ? `${(err as Error).stack}\n` : ''}`);
    code = 1;
  }
}
if (code >= 0) process.exit(code);
