// The harness checks a connector's ctx.reply() against the manifest's replySchema, as the runner
// does (test/runner-invalid-reply.test.ts): an invalid reply is dead-lettered naming its fields, so
// a connector's unit test is where its author learns which.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConnector } from '@lgsp/sdk';
import { testConnector } from '@lgsp/sdk/testing';

const schema = (id: string, properties: Record<string, unknown>, example: Record<string, unknown>) => ({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://lgsp.example.gov.vn/schemas/messages/${id}.schema.json`,
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
  examples: [example],
});

t.test('a reply that does not match the replySchema is reported with its fields', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-harness-reply-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'schemas'));
  writeFileSync(join(dir, 'schemas', 'forecast.ask.schema.json'), JSON.stringify(schema('forecast.ask', { province: { type: 'string' } }, { province: 'H49' })));
  writeFileSync(join(dir, 'schemas', 'forecast.answer.schema.json'), JSON.stringify(schema('forecast.answer', { rainMm: { type: 'number' } }, { rainMm: 12 })));
  writeFileSync(join(dir, 'connector.json'), JSON.stringify({
    name: 'forecast',
    entry: './index',
    messageTypes: [{ type: 'forecast.ask', schema: './schemas/forecast.ask.schema.json', replySchema: './schemas/forecast.answer.schema.json' }],
  }));
  const connector = defineConnector({
    name: 'forecast',
    async handle(message, ctx) {
      // A mapping slip: the target's text figure passed on as it came for one province.
      const { province } = message.data as { province: string };
      await ctx.reply(province === 'H49' ? { rainMm: 12 } : { rainMm: '12 mm' });
    },
  });
  const harness = await testConnector(connector, { manifest: join(dir, 'connector.json') });
  t.teardown(() => harness.stop());

  const good = await harness.send('forecast.ask', { province: 'H49' });
  t.equal(good.outcome, 'delivered');
  t.same(good.replies, [{ rainMm: 12 }]);

  const wrong = await harness.send('forecast.ask', { province: 'H50' });
  t.equal(wrong.outcome, 'dead_lettered', 'the harness does not pass an invalid reply as answered');
  t.match(wrong.error?.message, /forecast\.ask reply does not match its reply schema: \/rainMm must be number/);
  t.same(wrong.replies, [], 'not recorded as a reply');

  // Without a manifest the harness knows no reply schema and checks nothing.
  const bare = await testConnector(connector);
  t.teardown(() => bare.stop());
  t.same((await bare.send('forecast.ask', { province: 'H50' })).replies, [{ rainMm: '12 mm' }]);
});
