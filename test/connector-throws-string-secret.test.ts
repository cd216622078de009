// A handle() that throws a string (or a plain object) holding a secret value (`throw 'login refused for key ' + key`):
// the runtime scrubs secret values from what handle() throws (write-a-connector.md, §8), but it
// scrubbed only Errors, so the key went as is into the message's timeline (read by the sender),
// the dead letter, the audit trail and the connector status.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const KEY = 'sk-live-4f9a8b7c6d5e';
const SOURCE = `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'throws-secret',
  secrets: { apiKey: { description: 'key of the target' } },
  async handle(message, ctx) {
    if (message.data.text === 'string') throw 'login refused for key ' + ctx.secrets.get('apiKey');
    if (message.data.text === 'object') throw { error: 'login refused', key: ctx.secrets.get('apiKey') };
    return { detail: { ok: true } };
  },
});
`;

t.test('a secret in a thrown string is scrubbed like one in an Error', async (t) => {
  const { bus, send, final } = await startInlineConnector(t, 'throws-secret', SOURCE, { secrets: { apiKey: KEY } });
  const view = await final(await send('string'));
  t.equal(view.status, 'dead_lettered');
  t.notMatch(JSON.stringify(view), KEY, 'the key is nowhere on the timeline');
  t.match(view.events.at(-1)!.detail.reason, /login refused for key \[secret apiKey\]/, 'the reason names the secret instead');
  const objectView = await final(await send('object'));
  t.notMatch(JSON.stringify(objectView), KEY, 'a thrown object: the key is nowhere on the timeline');
  t.match(objectView.events.at(-1)!.detail.reason, /\{"error":"login refused","key":"\[secret apiKey\]"\}/);
  const operator = await bus.client('lgsp-operator').accessToken();
  const status = await (await fetch(`${bus.runner!.url}/v1/connectors/throws-secret/status`, { headers: { authorization: `Bearer ${operator}` } })).text();
  t.notMatch(status, KEY, 'nor in the connector status');
  t.match(status, /\[secret apiKey\]/);
});
