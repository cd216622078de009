// An Idempotency-Key used before an upgrade, retried after it. The gateway keeps each key's body
// fingerprint for 24 hours (gateway_idempotency), and the way it takes that fingerprint changed:
// releases before 2026-12-04 hashed the body's canonical JSON as sent, today's hash it after NFC
// normalisation (an NFD retry is the same request). A client that wrote Vietnamese decomposed
// (NFD) before the upgrade and retried the same bytes after it got 409 IDEMPOTENCY_KEY_REUSED for
// its own message (seen upgrading a running stack from the 2026-12-02 release). The row below is
// the one such a gateway wrote: its fingerprint and message id, as that release computed them.
import t from 'tap';
import { createHash } from 'node:crypto';
import { startTestBus } from './helpers/test-bus.js';
import { canonicalJson } from '../services/platform/canonical-json.js';
import { idempotentMessageId } from '../services/gateway/idempotent-message-id.js';

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

t.test('a key kept by an earlier release answers its message after the upgrade', async (t) => {
  const bus = await startTestBus(t, { name: 'idem-upgrade', connectors: ['relay'] });
  const client = bus.client('so-tttt-qlvb');
  const decomposed = {
    type: 'notice.send',
    to: { member: '000.00.15.H49', service: 'notice' },
    correlationId: 'CV-NANG-CAP-1',
    payload: { subject: 'Lịch họp giao ban Sở Tư pháp'.normalize('NFD'), body: 'Kính gửi các đơn vị trực thuộc'.normalize('NFD') },
  };
  t.not(decomposed.payload.subject, decomposed.payload.subject.normalize('NFC'), 'the body really is decomposed');

  // What the gateway of the 2026-12-02 release kept for this request.
  const earlierDigest = digest(canonicalJson(decomposed));
  const earlierId = idempotentMessageId('so-tttt-qlvb', 'nang-cap-1', earlierDigest, 0);
  await bus.db.query(
    `INSERT INTO gateway_idempotency (client_id, key, body_digest, message_id, expires_at) VALUES ($1, $2, $3, $4, now() + interval '23 hours')`,
    ['so-tttt-qlvb', 'nang-cap-1', earlierDigest, earlierId],
  );

  const retry = await client.send(decomposed, 'nang-cap-1');
  t.equal(retry.status, 202, `the same bytes with the same key are the same request (got ${retry.status} ${JSON.stringify(retry.body)})`);
  t.equal(retry.body.id, earlierId, 'answered with the message the earlier release accepted');

  // A fingerprint kept before canonical JSON (the body hashed as it was serialised) still counts too.
  const asSent = { ...decomposed, correlationId: 'CV-NANG-CAP-2' };
  const asSentId = idempotentMessageId('so-tttt-qlvb', 'nang-cap-2', digest(JSON.stringify(asSent)), 0);
  await bus.db.query(
    `INSERT INTO gateway_idempotency (client_id, key, body_digest, message_id, expires_at) VALUES ($1, $2, $3, $4, now() + interval '23 hours')`,
    ['so-tttt-qlvb', 'nang-cap-2', digest(JSON.stringify(asSent)), asSentId],
  );
  const retry2 = await client.send(asSent, 'nang-cap-2');
  t.equal(retry2.status, 202);
  t.equal(retry2.body.id, asSentId);

  // Another body under a key an earlier release kept is still a conflict.
  const other = await client.send({ ...decomposed, payload: { subject: 'Nội dung khác', body: 'khác' } }, 'nang-cap-1');
  t.equal(other.status, 409);
  t.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
});
