// What an agency system is told when a submission does not match the schema where the schema
// takes one of two shapes: `to` is one recipient (an object) or several (a list). A single
// recipient with a malformed member code was answered "to.member must match pattern …; to must
// be array; to must match exactly one schema in oneOf", a list with one bad entry "to must be
// object; …": the caller was told to send the shape it had not chosen. Only what is wrong in the
// shape it sent is named now; a `to` that is neither shape still says which are taken.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a refusal names what is wrong in the shape sent, not the shapes not sent', async (t) => {
  const bus = await startTestBus(t, { name: 'validation-branches', runner: false });
  const client = bus.client('so-tttt-qlvb');
  const payload = { subject: 'Thông báo', body: 'Kính gửi' };
  const send = async (to: unknown) => {
    const r = await client.send({ type: 'notice.send', to, payload } as never);
    t.equal(r.status, 400, `${JSON.stringify(to)}: 400`);
    t.equal(r.body.code, 'VALIDATION_FAILED');
    return { detail: r.body.detail as string, errors: r.body.errors as { field: string; message: string }[] };
  };

  const one = await send({ member: '000.00.15.h49', service: 'notice' });
  t.same(one.errors.map((e) => e.field), ['to.member'], 'one recipient, its code malformed: that field alone');
  t.notMatch(one.detail, /must be array|oneOf/, `no word of lists or schema branches (${one.detail})`);

  const misspelt = await send({ member: '000.00.15.H49', servce: 'notice' });
  t.same(misspelt.errors, [{ field: 'to.servce', message: 'unknown property "servce"' }], 'a misspelt member of the recipient is named');

  const list = await send([{ member: '000.00.15.H49' }, { member: 'x y' }]);
  t.same(list.errors.map((e) => e.field), ['to[1].member'], 'a list with one bad entry: that entry');
  t.notMatch(list.detail, /must be object|oneOf/, `no word of the single-recipient shape (${list.detail})`);

  const tooMany = await send(Array.from({ length: 101 }, (_, i) => ({ member: `H49.${i + 1}` })));
  t.same(tooMany.errors.map((e) => e.field), ['to'], 'a list too long: the list');
  t.match(tooMany.detail, /more than 100 items/);

  const neither = await send(5);
  t.match(neither.detail, /to must be object/, 'neither shape: both are named');
  t.match(neither.detail, /to must be array/);
});
