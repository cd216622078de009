// A bad Idempotency-Key is reported in the same refusal as the body's schema faults: a client that
// sent both was told of the body only, fixed it, and was refused a second time for the key. Each
// fault alone is answered as before: the key 400 BAD_REQUEST, the body 400 VALIDATION_FAILED.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('one refusal names a bad Idempotency-Key and a bad body together', async (t) => {
  const bus = await startTestBus(t, { name: 'idem-key-invalid-body', runner: false });
  const sender = bus.client('so-tttt-qlvb');
  const notice = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Họp', body: 'Nội dung' } };
  const badBody = { ...notice, to: { service: 'notice' } };
  const keyError = { field: 'Idempotency-Key', message: 'invalid' };

  const both = await sender.request('POST', '/v1/messages', badBody, { 'idempotency-key': 'has space' });
  t.equal(both.status, 400, 'bad key and bad body: 400');
  t.match(both.headers.get('content-type'), /^application\/problem\+json/);
  t.equal(both.body.code, 'VALIDATION_FAILED', 'the schema\'s code, as for the body alone');
  t.same(both.body.errors?.find((e: { field: string }) => e.field === 'Idempotency-Key'), keyError, 'the key is named among the errors');
  t.ok(both.body.errors?.some((e: { field: string }) => e.field === 'to.member'), 'and so is the body\'s fault');
  t.match(both.body.detail, /Idempotency-Key/, 'the detail says both');
  t.match(both.body.detail, /to\.member/);

  const bodyAlone = await sender.request('POST', '/v1/messages', badBody, { 'idempotency-key': 'a-good-key' });
  t.equal(bodyAlone.status, 400);
  t.equal(bodyAlone.body.code, 'VALIDATION_FAILED', 'the body alone: as before');
  t.notOk(bodyAlone.body.errors.some((e: { field: string }) => e.field === 'Idempotency-Key'), 'a good key is not named');

  const keyAlone = await sender.request('POST', '/v1/messages', notice, { 'idempotency-key': 'has space' });
  t.equal(keyAlone.status, 400);
  t.equal(keyAlone.body.code, 'BAD_REQUEST', 'the key alone: as before');
  t.same(keyAlone.body.errors, [keyError]);
  t.match(keyAlone.body.detail, /^Idempotency-Key must be one value of 1-200 visible ASCII characters/);

  const good = await sender.request('POST', '/v1/messages', notice, { 'idempotency-key': 'a-good-key' });
  t.equal(good.status, 202, 'both fixed: accepted');
});
