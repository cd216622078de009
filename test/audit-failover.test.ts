// Two audit service processes on one bus and one PostgreSQL: exactly one (the holder of the
// leader lock) writes the chain; kill -9 it while events keep arriving and the standby takes
// over within seconds; afterwards every event is in the chain exactly once, the chain verifies
// and a signed checkpoint covers all of it. Then the tail is cut together with its stored
// checkpoints: only the checkpoints published on Kafka reveal it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { createTestKeys } from './helpers/test-keys.js';
import { BatchingProducer } from '../services/platform/kafka-transport.js';
import { eventRecords, messageEvent } from '../services/platform/bus-events.js';
import { topicsFor } from '../services/platform/topics.js';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { openDatabase } from '../services/platform/database.js';
import { runAuditVerify } from '../services/audit/verify-command.js';
import { verifyAuditChain } from '../services/audit/chain-verifier.js';
import { createTestDatabase } from './helpers/test-database.js';
import { eventually, kafkaBrokers, uniquePrefix } from './helpers/test-bus.js';
import { grantTestAcls, testKafka } from './helpers/test-kafka.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

interface AuditProcess {
  child: ChildProcess;
  url: string;
}

t.test('audit leader killed under load: the standby continues and the chain stays whole', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-audit-failover-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const keys = await createTestKeys(dataDir);
  const keysFile = keys.jwksFile;
  const database = await createTestDatabase('audit-failover');
  t.teardown(() => database.drop());
  const db = await openDatabase(database.url);
  t.teardown(() => db.close());
  const prefix = uniquePrefix('audit-failover');
  const topics = topicsFor(prefix);

  const children: ChildProcess[] = [];
  t.teardown(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const startAudit = (name: string): Promise<AuditProcess> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'services', 'audit', 'main.js')], {
        env: {
          ...process.env,
          PORT: '0',
          DATABASE_URL: database.url,
          KAFKA_BROKERS: kafkaBrokers().join(','),
          LGSP_DATA_DIR: dataDir,
          LGSP_KEYS_DIR: keys.keysDir,
          LGSP_JWKS_FILE: keys.jwksFile,
          LGSP_TOPIC_PREFIX: prefix,
          LGSP_TOPIC_PARTITIONS: '2',
          LGSP_CHECKPOINT_INTERVAL_MS: '300',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listening on (http:\/\/\S+)/.exec(output);
        if (m) resolve({ child, url: m[1] });
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (code, signal) => reject(new Error(`audit ${name} exited (${code ?? signal}) before listening:\n${output.slice(-2000)}`)));
    });
  const role = async (p: AuditProcess): Promise<string> => {
    const body = (await (await fetch(`${p.url}/readyz`)).json()) as { checks?: { store?: { detail?: string } } };
    return /leader/.test(body.checks?.store?.detail ?? '') ? 'leader' : 'standby';
  };
  const count = async () => (await db.query<{ n: number }>('SELECT count(*)::bigint AS n, count(DISTINCT event_id)::bigint AS d FROM audit_entries')).rows[0].n;

  await grantTestAcls(prefix);
  const first = await startAudit('a');
  await eventually(async () => (await role(first)) === 'leader', 20_000);
  const second = await startAudit('b');
  // Give the second instance time to try for the lock (it retries every second) and fail.
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(await role(second), 'standby', 'the second instance stands by while the first leads');
  t.equal(await role(first), 'leader');

  const kafka = testKafka('audit-failover-test');
  const gatewayKey = await keys.signing('gateway', 'record');
  const producer = new BatchingProducer(kafka, () => gatewayKey, { lingerMs: 2, maxBatch: 100, ttlSeconds: 300 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const auditEvents = (n: number) =>
    Array.from({ length: n }, () => {
      const envelope = { id: uuidv7(), type: 'notice.send', from: { member: '000.00.14.H49', system: 'qlvb' }, to: { member: '000.00.15.H49', service: 'notices' }, correlationId: uuidv7(), payloadDigest: 'sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' };
      return eventRecords(topics, messageEvent('delivered', envelope, 'runner/relay', { connector: 'relay', attempt: 1 }));
    }).flat();

  await producer.send(auditEvents(200));
  await eventually(async () => (await count()) === 200, 30_000);

  // Events keep arriving while the leader dies.
  let sent = 200;
  let producing = true;
  const load = (async () => {
    while (producing) {
      await producer.send(auditEvents(20));
      sent += 20;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  await eventually(async () => (await role(second)) === 'leader', 20_000, 200);
  const electedMs = Date.now() - killedAt;
  await new Promise((r) => setTimeout(r, 2000));
  producing = false;
  await load;
  await eventually(async () => (await count()) === sent, 60_000, 200);
  const caughtUpMs = Date.now() - killedAt;
  t.comment(`standby elected ${electedMs} ms after kill -9 of the leader; chain caught up with all ${sent} events ${caughtUpMs} ms after it`);
  t.ok(electedMs < 10_000, `the standby leads within seconds (${electedMs} ms)`);

  const { rows } = await db.query<{ n: number; d: number; max: number }>('SELECT count(*)::bigint AS n, count(DISTINCT event_id)::bigint AS d, max(seq) AS max FROM audit_entries');
  t.same(rows[0], { n: sent, d: sent, max: sent }, 'every event once, seq without gaps');
  await eventually(async () => (await db.query<{ seq: number }>('SELECT max(seq)::bigint AS seq FROM audit_checkpoints')).rows[0].seq === sent, 10_000);

  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  const verifyArgs = ['--database', database.url, '--keys', keysFile, '--brokers', kafkaBrokers().join(','), '--topic-prefix', prefix];
  const code = await runAuditVerify(verifyArgs, out);
  t.equal(code, 0, lines.join('\n'));
  t.match(lines.join('\n'), new RegExp(`${sent} entries[\\s\\S]*checkpoints on Kafka: \\d+ checked[\\s\\S]*every entry covered by a signed checkpoint`));

  // Cut the tail together with the stored checkpoints that cover it: the database alone looks
  // intact, the checkpoints published on Kafka do not agree.
  const cut = sent - 10;
  const attacker = new pg.Client(databaseClientConfig(database.url));
  await attacker.connect();
  await attacker.query('SET session_replication_role = replica');
  await attacker.query('DELETE FROM audit_entries WHERE seq > $1', [cut]);
  await attacker.query('DELETE FROM audit_checkpoints WHERE seq > $1', [cut]);
  await attacker.end();
  t.match(await verifyAuditChain(db.pool, keys.publicKeys.resolver('checkpoint', { archive: true }), keys.publicKeys.lookup('record', { archive: true })), { ok: true, entries: cut }, 'the database alone shows nothing');
  lines.length = 0;
  t.equal(await runAuditVerify(verifyArgs, out), 1, lines.join('\n'));
  t.match(lines.join('\n'), new RegExp(`TAMPERED: first bad entry seq ${cut + 1}: .*published on Kafka.*tail cut`));
});
