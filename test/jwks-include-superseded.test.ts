// Verifying the audit chain with public keys only, as the README shows: save the JWKS the gateway
// serves, run `lgsp audit verify --jwks` on it. The served set drops a superseded key once its
// grace period (LGSP_KEY_GRACE_SECONDS, 8 days) has passed, so 8 days after a rotation of the
// record keys every entry signed before it read "TAMPERED: ... no platform key with kid" — a
// false alarm from following the README (reproduced on `npm start`: first bad entry seq 1).
// `?include=superseded` serves every key ever published, and the verification passes with it.
// The rotation is dated 9 days back, so its predecessors are past their grace at once.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rotateKeys } from '../services/platform/key-files.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { runAuditVerify } from '../services/audit/verify-command.js';
import { startTestBus, eventually, kafkaBrokers } from './helpers/test-bus.js';

const NINE_DAYS_MS = 9 * 24 * 3600 * 1000;

t.test('the audit chain verifies against the JWKS with ?include=superseded after a rotation is past its grace', async (t) => {
  const bus = await startTestBus(t, { name: 'jwks-superseded', config: { checkpointIntervalMs: 500 } });
  const audit = await startAuditService({ ...bus.config }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => audit.stop());
  const sent = await bus.client('so-tttt-qlvb').send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Thông báo', body: 'Kiểm thử khóa cũ' } });
  t.equal(sent.status, 202);
  const count = async () => Number((await bus.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_entries')).rows[0].n);
  const signedThrough = async () => Number((await bus.db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM audit_checkpoints')).rows[0].seq ?? 0);
  // The message and its delivery, chained and covered by a checkpoint.
  await eventually(async () => (await count()) >= 2 && (await signedThrough()) >= (await count()), 60_000, 200);

  const rotated = await rotateKeys(bus.config.keysDir, bus.config.jwksFile, { purpose: 'record' }, () => Date.now() - NINE_DAYS_MS);
  const previous = rotated.map((r) => r.previous).filter((kid): kid is string => Boolean(kid));
  t.ok(previous.length > 0, 'the record keys that signed the chain so far are superseded, 9 days ago');

  const served = async (query: string) => (await (await fetch(`${bus.gateway.url}/.well-known/jwks.json${query}`)).json()) as { keys: { kid: string; lgsp_superseded_at?: number }[] };
  const live = await served('');
  const all = await served('?include=superseded');
  t.notOk(live.keys.some((k) => previous.includes(k.kid)), 'the default set no longer holds them (past their grace: receivers must not take them)');
  t.ok(previous.every((kid) => all.keys.some((k) => k.kid === kid && typeof k.lgsp_superseded_at === 'number')), '?include=superseded does, marked superseded');
  t.ok(rotated.every((r) => all.keys.some((k) => k.kid === r.kid)), 'beside their successors');
  const recordOnly = await served('?purpose=record&include=superseded');
  t.ok(recordOnly.keys.length > 0 && recordOnly.keys.every((k) => (k as { lgsp_purpose?: string }).lgsp_purpose === 'record'), 'and the purpose filter still applies');

  const dir = t.testdir();
  const verify = async (keyset: unknown) => {
    const file = join(dir, `jwks-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(keyset));
    const lines: string[] = [];
    const code = await runAuditVerify(['--database', bus.database.url, '--keys', file, '--brokers', kafkaBrokers().join(','), '--topic-prefix', bus.config.topicPrefix], { log: (l) => lines.push(l), error: (l) => lines.push(l) });
    return { code, text: lines.join('\n') };
  };
  const withLive = await verify(live);
  t.equal(withLive.code, 1, 'the default set cannot verify the entries the old keys signed');
  t.match(withLive.text, /include=superseded/, 'and the verdict says which keyset would');
  const withAll = await verify(all);
  t.equal(withAll.code, 0, `every key ever published verifies the chain: ${withAll.text}`);
});
