// After PostgreSQL is restored from a dump older than the bus, the read models catch up by
// themselves (read-model-offsets.ts, restore-catch-up.ts). Found by the disaster-recovery drill:
// their consumer groups (the ledger, the audit, the console's dead letters) kept their offsets on
// Kafka only, past what the dump held, so every message accepted after the dump answered
// 404 MESSAGE_NOT_FOUND for ever, its audit entries and dead letters never came back, unless an
// operator reset three groups by hand before the services started.
//
// On the real stack: messages and a dead letter, a real pg_dump, more of them, the services
// stopped, the dump restored with pg_restore into a fresh database, the services started on it.
// The runners' group is not rewound: nothing is delivered again.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { startAuditService, type RunningAuditService } from '../services/audit/audit-service.js';
import { startConsole, type RunningConsole } from '../services/console/console-service.js';
import { gatewayModules } from '../services/composition/gateway-modules.js';
import { startGateway } from '../services/gateway/gateway-service.js';
import { findPostgresBin } from '../services/local-postgres/local-postgres.js';
import { freePort } from '../services/local-processes/free-port.js';
import type { BusConfig } from '../services/platform/config.js';
import { BatchingProducer } from '../services/platform/kafka-transport.js';
import { BusClient } from '../services/platform/bus-client.js';
import { topicsFor } from '../services/platform/topics.js';
import { startRunner, type RunningRunner } from '../services/runner/runner-service.js';
import { eventually, startTestBus } from './helpers/test-bus.js';
import { createTestDatabase } from './helpers/test-database.js';
import { openDatabase } from '../services/platform/database.js';
import { readModelOffsets } from '../services/platform/read-model-offsets.js';
import { testKafka } from './helpers/test-kafka.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const run = promisify(execFile);

t.test('read models restored from an older dump catch up by themselves', async (t) => {
  const bus = await startTestBus(t, { name: 'restore-catch-up', runner: false });
  const topics = topicsFor(bus.config.topicPrefix);
  const sender = bus.client('so-tttt-qlvb');
  const operatorToken = await bus.client('lgsp-operator').accessToken();

  // The read-model services on a database: started again on the restored one later.
  interface ReadModels {
    runner: RunningRunner;
    audit: RunningAuditService;
    console: RunningConsole;
    stop(): Promise<void>;
  }
  const startReadModels = async (config: BusConfig): Promise<ReadModels> => {
    const runner = await startRunner(config, { connectors: ['relay'] });
    const audit = await startAuditService(config);
    const consoleSvc = await startConsole(config, { upstream: { gateway: bus.gateway.url, audit: audit.url, runner: runner.url } });
    let stopped = false;
    const models = {
      runner,
      audit,
      console: consoleSvc,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await consoleSvc.stop();
        await audit.stop();
        await runner.stop();
      },
    };
    t.teardown(() => models.stop());
    return models;
  };

  // A dead letter as the runner writes one (the console keeps it whatever its signature).
  const gatewayKey = await bus.keys.signing('gateway', 'record');
  const producer = new BatchingProducer(testKafka('restore-catch-up'), () => gatewayKey, { lingerMs: 2, maxBatch: 100, ttlSeconds: 300 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const deadLetter = async (): Promise<string> => {
    const id = uuidv7();
    await producer.send([
      {
        topic: topics.deadLetter('relay'),
        key: id,
        value: JSON.stringify({ id, type: 'notice.send', from: { member: '000.00.14.H49', system: 'qlvb' }, to: { member: '000.00.15.H49', service: 'notice' } }),
        headers: { 'lgsp-id': id, 'lgsp-dlq-reason': 'test: the destination refused it', 'lgsp-failed-at': new Date().toISOString() },
      },
    ]);
    return id;
  };
  const sendNotices = async (n: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const sent = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: `Khôi phục ${i}`, body: 'Nội dung' } });
      t.equal(sent.status, 202);
      ids.push(sent.body.id as string);
    }
    return ids;
  };
  const deliveredBy = async (client: BusClient, ids: string[]) =>
    eventually(async () => {
      for (const id of ids) if ((await client.status(id)).body?.status !== 'delivered') return false;
      return true;
    }, 30_000);
  const auditHas = async (audit: RunningAuditService, ids: string[]) =>
    eventually(async () => {
      for (const id of ids) if ((await audit.store.query({ messageId: id })).entries.length === 0) return false;
      return true;
    }, 30_000);
  const listedDeadLetters = async (consoleSvc: RunningConsole): Promise<Array<{ messageId: string | null }>> => {
    const res = await fetch(`${consoleSvc.url}/v1/console/dead-letters?limit=100`, { headers: { authorization: `Bearer ${operatorToken}` } });
    if (res.status !== 200) throw new Error(`GET /v1/console/dead-letters answered ${res.status}`);
    return ((await res.json()) as { items: Array<{ messageId: string | null }> }).items;
  };
  const consoleLists = async (consoleSvc: RunningConsole, id: string) => eventually(async () => (await listedDeadLetters(consoleSvc)).some((d) => d.messageId === id), 30_000);

  const first = await startReadModels(bus.config);
  // The first start stores every partition's starting point, those nothing came on yet too (the
  // inbox: no pull system here), so a partition without a row in a dump is one nothing was applied of.
  const groups = { ledger: `${bus.config.topicPrefix}lgsp-ledger`, audit: `${bus.config.topicPrefix}lgsp-audit`, console: `${bus.config.topicPrefix}lgsp-console-${first.console.store.storeId}` };
  const ledgerRows = await eventually(async () => {
    const rows = await readModelOffsets(bus.db, groups.ledger);
    return rows.length === 2 * bus.config.topicPartitions ? rows : null;
  });
  t.same(ledgerRows.map((r) => r.topic).sort(), [topics.events, topics.events, topics.inbox, topics.inbox]);
  const before = await sendNotices(3);
  const deadBefore = await deadLetter();
  await deliveredBy(sender, before);
  await auditHas(first.audit, before);
  await consoleLists(first.console, deadBefore);

  // The dump: a real pg_dump of the database, as a smaller installation backs up.
  const bin = findPostgresBin();
  const dumpFile = join(t.testdir(), 'lgsp.dump');
  await run(join(bin, 'pg_dump'), ['-Fc', '-f', dumpFile, bus.database.url]);

  // The bus goes on: more messages (delivered) and a dead letter, all applied, and the groups'
  // offsets committed past them (the ledger and the audit commit once a second).
  const after = await sendNotices(3);
  const deadAfter = await deadLetter();
  await deliveredBy(sender, after);
  await auditHas(first.audit, after);
  await consoleLists(first.console, deadAfter);
  await new Promise((r) => setTimeout(r, 2500));
  const deliveriesBefore = [...bus.simulator.attempts.values()].reduce((a, b) => a + b, 0);
  await first.stop();

  // The database is lost and restored from the dump into a fresh one.
  const restored = await createTestDatabase('restore-catch-up-restored');
  t.teardown(() => restored.drop());
  await run(join(bin, 'pg_restore'), ['--exit-on-error', '--no-owner', '-d', restored.url, dumpFile]);
  const restoredConfig: BusConfig = { ...bus.config, databaseUrl: restored.url };
  const gateway = await startGateway(restoredConfig, { port: await freePort(), instanceId: 'gw-restored', modules: gatewayModules });
  t.teardown(() => gateway.stop());
  const restoredSender = new BusClient(gateway.url, bus.clients.get('so-tttt-qlvb')!, bus.config.issuer);
  t.equal((await restoredSender.status(after[0])).status, 404, 'the restored database lacks what came after the dump');

  const second = await startReadModels(restoredConfig);
  // The ledger: statuses and timelines of the messages after the dump are back.
  await deliveredBy(restoredSender, after);
  for (const id of [...before, ...after]) t.equal((await restoredSender.status(id)).status, 200, `GET /v1/messages/${id} finds it`);
  // The audit: their entries are chained again, those in the dump not twice.
  await auditHas(second.audit, after);
  for (const id of before) {
    const accepted = (await second.audit.store.query({ messageId: id, event: 'accepted' })).entries;
    t.equal(accepted.length, 1, 'an entry of the dump is not chained twice');
  }
  // The console: the dead letter after the dump is listed again, the one in the dump once.
  await consoleLists(second.console, deadAfter);
  t.equal((await listedDeadLetters(second.console)).filter((d) => d.messageId === deadBefore).length, 1);

  // Operators see that a catch-up happened.
  const runnerMetrics = await (await fetch(`${second.runner.url}/metrics`)).text();
  t.match(runnerMetrics, /lgsp_read_model_catch_up_records_total\{consumer="ledger",service="runner"\} [1-9]/, 'the ledger says it read records again');
  const auditMetrics = await (await fetch(`${second.audit.url}/metrics`)).text();
  t.match(auditMetrics, /lgsp_read_model_catch_up_records_total\{consumer="audit",service="audit"\} [1-9]/, 'the audit says it read records again');
  const consoleMetrics = await (await fetch(`${second.console.url}/metrics`)).text();
  t.match(consoleMetrics, /lgsp_read_model_catch_up_records_total\{consumer="console",service="console"\} 1\b/, 'the console read the one dead letter again');

  // The runners' group was not rewound: nothing delivered again.
  await new Promise((r) => setTimeout(r, 1500));
  t.equal([...bus.simulator.attempts.values()].reduce((a, b) => a + b, 0), deliveriesBefore, 'no message delivered again');

  // The first start after the upgrade that brought the table (a database without rows: here its
  // rows deleted) keeps the groups' offsets and stores them: nothing is read again.
  await new Promise((r) => setTimeout(r, 1500)); // the periodic commits
  await second.stop();
  const restoredDb = await openDatabase(restored.url);
  t.teardown(() => restoredDb.close());
  await restoredDb.query('DELETE FROM read_model_offsets');
  const third = await startReadModels(restoredConfig);
  const admin = testKafka('restore-catch-up-admin').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  for (const [name, groupId] of Object.entries(groups)) {
    const stored = await eventually(async () => ((await readModelOffsets(restoredDb, groupId)).length > 0 ? readModelOffsets(restoredDb, groupId) : null));
    const committed = await admin.fetchOffsets({ groupId, topics: [...new Set(stored.map((s) => s.topic))] });
    for (const s of stored) {
      const group = committed.find((c) => c.topic === s.topic)!.partitions.find((p) => p.partition === s.partition)!.offset;
      // Where the group has no offset (nothing came on the partition) the start of the log: 0 here.
      t.equal(s.nextOffset, group === '-1' ? '0' : group, `${name}: ${s.topic}/${s.partition} starts where the group is`);
    }
  }
  for (const url of [third.runner.url, third.audit.url, third.console.url]) {
    t.notMatch(await (await fetch(`${url}/metrics`)).text(), /lgsp_read_model_catch_up_records_total\{[^}]*\} [1-9]/, 'nothing read again');
  }
});
