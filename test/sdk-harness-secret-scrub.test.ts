// The SDK harness records what handle() threw as the runner would: with the values of the
// connector's secrets replaced by [secret <name>], as in the timeline, dead letters, status and
// logs (test/connector-throws-string-secret.test.ts covers the runner). Before, the harness
// kept the value, so a unit test asserting that a failure reason carries no key failed on the
// harness while the runner scrubbed it, and a test of the reason operators read could not pass.
import t from 'tap';
import { defineConnector } from '@lgsp/sdk';
import { testConnector } from '@lgsp/sdk/testing';

const connector = defineConnector({
  name: 'echoes-key',
  secrets: { apiKey: { description: 'API key of the target' } },
  async start({ secrets }) {
    if (secrets.get('apiKey') === 'refused-at-start') throw new Error('login refused for key refused-at-start');
  },
  async handle(message, ctx) {
    // A client library that puts the request's key in its error, as some do.
    const key = ctx.secrets.get('apiKey');
    switch ((message.data as { how: string }).how) {
      case 'error': throw new Error(`401 from target: key ${key} unknown`);
      case 'string': throw `key ${key} unknown`;
      default: throw { code: 'E_AUTH', key, retryable: false };
    }
  },
});

t.test('secret values are scrubbed from what handle() and start() threw', async (t) => {
  const harness = await testConnector(connector, { secrets: { apiKey: 'k-0123456789' } });
  t.teardown(() => harness.stop());

  const error = await harness.send('echoes.key', { how: 'error' });
  t.equal(error.outcome, 'retried');
  t.equal(error.error?.message, '401 from target: key [secret apiKey] unknown');
  t.notMatch(error.error?.stack ?? '', /k-0123456789/, 'nor in the stack');

  const thrownString = await harness.send('echoes.key', { how: 'string' });
  t.equal(thrownString.error?.message, 'key [secret apiKey] unknown');

  const object = await harness.send('echoes.key', { how: 'object' });
  t.equal(object.outcome, 'dead_lettered', 'its retryable: false is kept');
  t.match(object.error?.message, /"key":"\[secret apiKey\]"/);
  t.notMatch(object.error?.message, /k-0123456789/);

  await t.rejects(testConnector(connector, { secrets: { apiKey: 'refused-at-start' } }), { message: 'login refused for key [secret apiKey]' });
});
