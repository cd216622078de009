// `lgsp audit verify [--database <url>] [--keys <jwks.json>]`: checks the audit chain in
// PostgreSQL offline (it only reads; it never migrates or writes). It holds public keys only:
// the public keyset, whose checkpoint keys (and only those) verify checkpoints and whose record
// keys verify the bus records the entries were made from; an auditor needs
// no access to any private key. Exit codes: 0 intact,
// 1 tampered, 2 usage error or nothing to verify. The lgsp CLI dispatcher passes the arguments
// after `audit verify`.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { kafkaSettingsFromEnv, loadConfig, type KafkaSettings } from '../platform/config.js';
import { PublicKeyset } from '../platform/public-keyset.js';
import { verifyAuditChain } from './chain-verifier.js';
import { readPublishedCheckpoints } from './checkpoint-topic.js';
import { createKafka } from '../platform/kafka-transport.js';
import { topicsFor } from '../platform/topics.js';
import { parseCommandArgs, UsageError } from '../cli/cli-args.js';
import { databaseClientConfig, explainConnectionError } from '../platform/database-connection.js';
import { stackDatabaseUrl } from '../stack/stack-database.js';

export const AUDIT_VERIFY_USAGE = `usage: lgsp audit verify [--database <postgres://…>] [--keys <jwks.json>] [--brokers <host:port,…>] [--topic-prefix <p>]

Recomputes the audit hash chain, re-checks the bus record signature each entry keeps (an entry
rewritten together with a recomputed chain no longer matches it) and checks every signed
checkpoint, those stored with the chain and the copies published on Kafka (which reveal a tail
cut together with its stored checkpoints). Only public keys are used.
  --database      PostgreSQL holding the audit tables (default: DATABASE_URL from the configuration)
  --keys          the public keyset (JWKS, e.g. saved from GET /.well-known/jwks.json?include=superseded:
                  every key ever published; without the parameter a key leaves the set
                  LGSP_KEY_GRACE_SECONDS after its rotation, and the entries it signed no
                  longer verify) whose checkpoint keys verify the checkpoints and record keys
                  the entries' records (default: LGSP_JWKS_FILE; never a private key file;
                  --jwks is the same)
  --brokers       Kafka holding the checkpoint topic (default: KAFKA_BROKERS, else the broker of
                  the stack npm start runs, from .lgsp/dev/stack.json; none: not checked),
                  read as the audit principal (KAFKA_SSL_CA_FILE, KAFKA_SASL_* or KAFKA_CREDENTIALS_DIR;
                  for the stack's own broker, its CA and credentials from stack.json)
  --topic-prefix  the bus's topic prefix (default: LGSP_TOPIC_PREFIX)
Exit status: 0 intact, 1 tampered, 2 usage error, unreachable database or Kafka, missing file,
or a keyset without checkpoint or record keys (it cannot judge the chain).`;

export interface CommandOutput {
  log(line: string): void;
  error(line: string): void;
}

interface StackFile {
  kafka?: { bootstrapServers?: unknown; sslCaFile?: unknown; credentialsDir?: unknown; plaintext?: unknown };
}

/** What `npm start` recorded about its stack (.lgsp/dev/stack.json), if it ran here. */
function readStackFile(dataDir: string): StackFile {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackFile;
  } catch {
    return {};
  }
}

/**
 * The Kafka of the stack `npm start` runs, as the audit principal: without it a developer's
 * `lgsp audit verify` silently skipped the published checkpoints, the half that reveals a cut tail.
 */
function stackKafkaSettings(stack: StackFile): Partial<KafkaSettings> {
  const kafka = stack.kafka;
  if (typeof kafka?.bootstrapServers !== 'string' || !kafka.bootstrapServers) return {};
  return {
    kafkaBrokers: kafka.bootstrapServers.split(',').map((b) => b.trim()).filter(Boolean),
    ...(typeof kafka.sslCaFile === 'string' ? { kafkaSslCaFile: kafka.sslCaFile } : {}),
    ...(typeof kafka.credentialsDir === 'string' ? { kafkaCredentialsDir: kafka.credentialsDir } : {}),
    ...(kafka.plaintext === true ? { kafkaPlaintext: true } : {}),
  };
}

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the database';
  }
}

/** Whether two broker lists name the same brokers (in any order). */
function sameBrokers(a: string[], b: string[] | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((broker) => set.has(broker));
}

export async function runAuditVerify(argv: string[], out: CommandOutput = console): Promise<number> {
  let args: { database?: string; keys?: string; jwks?: string; brokers?: string; 'topic-prefix'?: string; help?: boolean };
  try {
    const { values, positionals } = parseCommandArgs(argv, {
      database: { type: 'string' },
      keys: { type: 'string' },
      jwks: { type: 'string' },
      brokers: { type: 'string' },
      'topic-prefix': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    if (values.jwks !== undefined && values.keys !== undefined) throw new UsageError('pass --keys or --jwks, not both');
    for (const name of ['database', 'keys', 'jwks'] as const) if (values[name] === '') throw new UsageError(`--${name} needs a value`);
    if (values.database !== undefined && !/^postgres(ql)?:\/\//.test(values.database)) throw new UsageError('--database must be a postgres:// URL');
    args = values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.error(`lgsp audit verify: ${err.message}\n${AUDIT_VERIFY_USAGE}`);
    return 2;
  }
  if (args.help) {
    out.log(AUDIT_VERIFY_USAGE);
    return 0;
  }

  let databaseUrl = args.database;
  let keysFile = args.keys ?? args.jwks;
  let brokers = args.brokers?.split(',').map((b) => b.trim()).filter(Boolean);
  let topicPrefix = args['topic-prefix'];
  let kafkaSettings = kafkaSettingsFromEnv();
  if (!databaseUrl || !keysFile || !brokers || topicPrefix === undefined) {
    try {
      const config = loadConfig();
      const stack = readStackFile(config.dataDir);
      // Without DATABASE_URL, the PostgreSQL that `npm start` runs (stack.json, its owner's password from its credentials dir).
      databaseUrl ??= config.databaseUrl || stackDatabaseUrl(config.dataDir);
      keysFile ??= config.jwksFile;
      if (config.kafkaBrokers.length === 0) {
        // Without KAFKA_BROKERS, the broker of that stack, with its CA and credentials; also when
        // --brokers names that same broker (an operator copying its address from stack.json
        // otherwise met "Kafka needs credentials").
        const fromStack = stackKafkaSettings(stack);
        if (!brokers) {
          kafkaSettings = { ...kafkaSettings, ...fromStack };
          brokers = kafkaSettings.kafkaBrokers;
        } else if (sameBrokers(brokers, fromStack.kafkaBrokers)) {
          kafkaSettings = { ...kafkaSettings, ...fromStack, kafkaBrokers: brokers };
        }
      }
      brokers ??= config.kafkaBrokers;
      topicPrefix ??= config.topicPrefix;
    } catch (err) {
      out.error(`lgsp audit verify: ${(err as Error).message}`);
      return 2;
    }
  }
  if (!databaseUrl) {
    out.error('lgsp audit verify: no database: set DATABASE_URL or pass --database <url> (npm start writes it to .lgsp/dev/stack.json)');
    return 2;
  }
  keysFile = resolve(keysFile);
  // Without the keyset every checkpoint would look forged: a missing or unusable keyset (a
  // private key file included: it is refused) is a usage error, not a verdict on the chain.
  if (!existsSync(keysFile)) {
    out.error(`lgsp audit verify: no public keyset at ${keysFile} (pass --keys <jwks.json>)`);
    return 2;
  }
  let publicKeys: PublicKeyset;
  try {
    publicKeys = PublicKeyset.fromJwks(JSON.parse(readFileSync(keysFile, 'utf8')));
  } catch (err) {
    out.error(`lgsp audit verify: ${keysFile} is not a usable public keyset: ${(err as Error).message}`);
    return 2;
  }
  // A keyset without checkpoint or record keys (an empty one, one saved with ?purpose=token, a
  // file of some other JWKS) cannot judge the chain: every entry and checkpoint read TAMPERED
  // (exit 1), a false alarm an auditor could not tell from a real one.
  const missing = (['checkpoint', 'record'] as const).filter((purpose) => publicKeys.jwks({ purpose, archive: true }).keys.length === 0);
  if (missing.length > 0) {
    out.error(
      `lgsp audit verify: ${keysFile} holds no ${missing.join(' and no ')} keys (lgsp_purpose ${missing.map((m) => `"${m}"`).join(', ')}), which the audit chain is verified with: ` +
        'pass the whole public keyset, saved from GET /.well-known/jwks.json?include=superseded (without ?purpose=), or LGSP_JWKS_FILE',
    );
    return 2;
  }

  let poolConfig: pg.PoolConfig;
  try {
    poolConfig = databaseClientConfig(databaseUrl, { max: 1, connectionTimeoutMillis: 5000, application_name: 'lgsp-audit-verify' });
  } catch (err) {
    out.error(`lgsp audit verify: ${(err as Error).message}`);
    return 2;
  }
  const pool = new pg.Pool(poolConfig);
  let result;
  try {
    const tables = await pool.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('audit_entries', 'audit_checkpoints')");
    if (Number(tables.rows[0].n) < 2) {
      out.error(`lgsp audit verify: ${shown(databaseUrl)} holds no audit log (no audit_entries table)`);
      return 2;
    }
    const checkpointTopic = topicsFor(topicPrefix).auditCheckpoints;
    let published;
    if (brokers.length > 0) {
      // Kafka's failure is Kafka's: it was reported as the database's ("cannot read postgres://…:
      // Connection error …"), sending an operator to a PostgreSQL that was fine.
      try {
        published = await readPublishedCheckpoints(createKafka('lgsp-audit-verify', { ...kafkaSettings, kafkaBrokers: brokers }, 'audit'), checkpointTopic, topicPrefix);
      } catch (err) {
        out.error(`lgsp audit verify: cannot read the checkpoints published on Kafka (${brokers.join(',')}, topic ${checkpointTopic}): ${(err as Error).message} (--brokers '' skips them)`);
        return 2;
      }
    }
    result = await verifyAuditChain(pool, publicKeys.resolver('checkpoint', { archive: true }), publicKeys.lookup('record', { archive: true }), published);
  } catch (err) {
    out.error(`lgsp audit verify: cannot read ${shown(databaseUrl)}: ${(explainConnectionError(err, databaseUrl) as Error).message}`);
    return 2;
  } finally {
    await pool.end().catch(() => undefined);
  }

  out.log(`audit log in ${shown(databaseUrl)}: ${result.entries} entries, ${result.checkpoints} checkpoints`);
  out.log(
    result.published
      ? `checkpoints on Kafka: ${result.published.checked} checked${result.published.ignored ? `, ${result.published.ignored} ignored (not signed by a platform key)` : ''}`
      : 'checkpoints on Kafka: not checked (no brokers: pass --brokers or set KAFKA_BROKERS)',
  );
  if (result.firstBad) {
    out.log(`TAMPERED: first bad entry seq ${result.firstBad.seq}: ${result.firstBad.reason}`);
    // Not a verdict the keyset can give when it lacks a key: say where the full set is.
    if (/no platform key with kid/.test(result.firstBad.reason)) {
      out.log('(a keyset saved from GET /.well-known/jwks.json lacks the keys past their grace period: save it from /.well-known/jwks.json?include=superseded, or use LGSP_JWKS_FILE)');
    }
    return 1;
  }
  const unsigned = result.entries - result.signedThrough;
  out.log(
    result.entries === 0
      ? 'OK: the audit log is empty'
      : result.signedThrough === 0
      ? `OK: chain intact; none of its ${result.entries} entries is covered by a signed checkpoint yet (a deletion of any of them would not show)`
      : unsigned > 0
      ? `OK: chain intact; entries 1..${result.signedThrough} covered by signed checkpoints, the ${unsigned} newest not yet signed`
      : 'OK: chain intact; every entry covered by a signed checkpoint',
  );
  return 0;
}
