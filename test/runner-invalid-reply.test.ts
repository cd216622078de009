// A connector's ctx.reply() that does not match the type's replySchema: the runner refuses it as
// the SDK harness does (the fields named, dead-lettered at once), instead of publishing it and
// recording the message as delivered. Before, the requester got 502 INVALID_REPLY while the
// operator's timeline, dead letters and counters said the request had been answered: the only
// trace was an error line in the gateway's log.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'bad-answer',
  async handle(message, ctx) {
    // A mapping slip: a number where the reply schema wants a string, for one question only.
    await ctx.reply({ text: message.data.text === 'slip' ? 42 : 'answer to ' + message.data.text });
    return { detail: { replied: true } };
  },
});
`;

t.test('an invalid reply is dead-lettered naming its fields, not counted as delivered', async (t) => {
  const c = await startInlineConnector(t, 'bad-answer', SOURCE, { requestReply: true });
  const client = c.bus.client('so-tttt-qlvb');
  const ask = (text: string) => client.request('POST', '/v1/requests', { type: 'bad-answer.test', to: { member: '000.00.00.H49', service: 'bad-answer' }, payload: { text } }, { prefer: 'wait=20' });

  const wrong = await ask('slip');
  t.equal(wrong.status, 502, JSON.stringify(wrong.body));
  t.equal(wrong.body.code, 'REQUEST_FAILED', 'the requester is told the provider could not answer');
  t.match(wrong.body.detail, /bad-answer\.test reply does not match its reply schema: \/text must be string/, 'and why, by field');
  const view = await c.final(wrong.body.messageId as string);
  t.equal(view.status, 'dead_lettered', 'the operator sees it failed');
  t.equal(view.events.filter((e) => e.event === 'delivery_failed').length, 0, 'at once: a retry would map it the same way');
  t.notOk(view.events.some((e) => e.event === 'status' && e.detail.reply === 'sent'), 'no reply was sent');
  t.match(view.events.at(-1)!.detail.reason, /\/text must be string/);

  const right = await ask('q1');
  t.equal(right.status, 200, JSON.stringify(right.body));
  t.same(right.body.reply, { text: 'answer to q1' }, 'a valid reply still answers');
});
