// A JSON body naming one key twice in an object is found, and named; nothing else is.
import t from 'tap';
import { repeatedJsonKey } from '../services/platform/duplicate-json-keys.js';

const check = (text: string) => repeatedJsonKey(Buffer.from(text, 'utf8'), JSON.parse(text));

t.test('bodies whose objects name each key once pass', async (t) => {
  for (const text of [
    '{}', '[]', '"x"', '12', 'null',
    '{"type":"notice.send","to":{"member":"000.00.15.H49"},"payload":{"subject":"Họp","body":"a:b"}}',
    // A colon after a string value, quotes and backslashes inside strings, keys that only look alike.
    '{"a":"x\\":","b":"\\\\","c":["d",":"],"e" : {"a":1,"A":2,"a ":3}}',
    '{"to":[{"member":"1"},{"member":"2"}]}',
    `{"content":"${'QUJD'.repeat(30000)}","k":"v"}`,
    '{ "a" :\n 1 ,\t"b":{ } }',
    `{"x":${'['.repeat(20000)}${']'.repeat(20000)}}`,
    `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
  ]) t.equal(check(text), null, text.slice(0, 60));
});

t.test('a key named twice in one object is found and named by its path', async (t) => {
  t.equal(check('{"a":1,"a":2}'), 'a');
  t.equal(check('{"to":{"member":"X","member":"Y"}}'), 'to.member');
  t.equal(check('{"to":[{"member":"1"},{"member":"2","service":"s","service":"t"}]}'), 'to[1].service');
  t.equal(check('{"payload":{"subject":"x"},"payload":{"subject":"y"}}'), 'payload');
  t.equal(check('{"a\\u0062":1,"ab":2}'), 'ab', 'names are compared decoded');
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"to":{"member":"A","member":"B"}}')]);
  t.equal(repeatedJsonKey(bom, JSON.parse(bom.toString('utf8').slice(1))), 'to.member', 'behind a byte order mark too');
  t.equal(check('{"x":"\\"","k":[1,{"z":{}}],"x":0}'), 'x');
  t.equal(check(`${'{"a":'.repeat(1000)}{"b":1,"b":2}${'}'.repeat(1000)}`), `${'a.'.repeat(1000)}b`, 'deep inside a deep body');
});
