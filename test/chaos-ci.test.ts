// The CI part of the fault proof (`npm run chaos` is the whole of it): under steady load through
// two gateways with two runners, kill -9 a runner mid-batch, restart a gateway, and stop
// PostgreSQL for 10 s. After each: every message answered 202 is received by the destination
// (deduped by LGSP-Message-Id) or dead-lettered with a reason, duplicates stay within the
// documented at-least-once bound, the audit holds every accepted message and
// `lgsp audit verify` passes. Services run as their own processes (kill -9 must hit a real
// one) on npm test's broker and a PostgreSQL server of the test's own (it is stopped).
import t from 'tap';
import { runChaos } from './chaos/chaos-run.js';

// About 2.5 min on a busy two-core machine (stack start, three faults, accounting); headroom
// over tap's default 180 s so a slow box fails on an assertion, not on the clock.
t.setTimeout(300_000);

t.test('fault proof subset: runner kill -9, gateway restart, PostgreSQL 10 s', async (t) => {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run with `npm test`');
  const lines: string[] = [];
  const result = await runChaos({
    faults: ['runner-kill', 'gateway-restart', 'postgres-stop'],
    quick: true,
    rate: 20,
    soak: 0,
    gateways: 2,
    runners: 2,
    audits: 1,
    console: false,
    externalBrokers: brokers,
    log: (line) => lines.push(line),
  });
  for (const p of result.phases) {
    t.comment(`${p.fault}: accepted ${p.accepted}, delivered ${p.delivered}, dead-lettered ${p.deadLettered}, lost ${p.lost}, duplicates ${p.duplicates}/${p.duplicateBound}, recovery ${p.recoveryMs} ms, longest delivery gap ${p.longestDeliveryGapMs} ms`);
    t.ok(p.accepted > 0, `${p.fault}: messages accepted under load (${p.accepted})`);
    t.equal(p.lost, 0, `${p.fault}: nothing lost (${p.lostIds.join(', ')})`);
    t.ok(p.duplicates <= p.duplicateBound, `${p.fault}: duplicates ${p.duplicates} within the bound ${p.duplicateBound}`);
    t.equal(p.auditMissing, 0, `${p.fault}: the audit holds every accepted message`);
    t.ok(p.auditVerify, `${p.fault}: lgsp audit verify passes (${p.auditVerifyOutput})`);
    t.ok(p.passed, `${p.fault}: passed`);
  }
  t.equal(result.phases.length, 3, 'every fault ran');
  if (!result.passed) t.comment(lines.join('\n'));
});
