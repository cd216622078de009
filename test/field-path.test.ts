// errors[].field: one spelling for every check, array elements in brackets.
import t from 'tap';
import { Ajv } from 'ajv';
import { fieldPath, fieldPathJoin, pointerSegments } from '../services/platform/field-path.js';
import { fieldErrors } from '../services/platform/problem-handler.js';

t.test('members after dots, indices in brackets', async (t) => {
  t.equal(fieldPath(['to', 1, 'member']), 'to[1].member');
  t.equal(fieldPath([0, 'name'], 'payload'), 'payload[0].name');
  t.equal(fieldPath([], 'payload'), 'payload');
  t.equal(fieldPath([]), '(body)', 'the body itself');
  t.equal(fieldPathJoin('', 'to'), 'to');
  t.equal(fieldPathJoin('items', 2), 'items[2]');
});

t.test('a JSON Pointer read against its document tells an index from a member named with digits', async (t) => {
  const doc = { items: [{ name: 'a' }, { name: 'b' }], codes: { '2026': { v: 1 } } };
  t.same(pointerSegments('/items/1/name', doc), ['items', 1, 'name']);
  t.same(pointerSegments('/codes/2026/v', doc), ['codes', '2026', 'v'], 'an object key of digits stays a member');
  t.same(pointerSegments('/codes/2026/v'), ['codes', 2026, 'v'], 'without the document digits read as an index');
  t.same(pointerSegments('/a~1b/c~0d', { 'a/b': { 'c~d': 1 } }), ['a/b', 'c~d'], 'RFC 6901 escapes undone');
  t.same(pointerSegments(''), []);
});

t.test('schema errors name fields the way the other checks do', async (t) => {
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile({
    type: 'object',
    properties: {
      to: { type: 'array', items: { type: 'object', required: ['member'], properties: { member: { type: 'string', pattern: '^[0-9A-Z.]+$' } } } },
      byYear: { type: 'object', additionalProperties: { type: 'object', properties: { total: { type: 'integer' } } } },
    },
  });
  const body = { to: [{ member: 'OK.1' }, { member: 'bad code' }, {}], byYear: { '2026': { total: 'many' } } };
  t.notOk(validate(body));
  t.same(fieldErrors(validate.errors ?? [], 'payload', body).map((e) => e.field).sort(), ['payload.byYear.2026.total', 'payload.to[1].member', 'payload.to[2].member']);
});
