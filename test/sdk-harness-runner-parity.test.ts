// The harness reports an outcome as the runner would record it, for what handle() may do that
// the runner reads its own way: a thrown value that is no Error (the runner's reason and retry
// flags, not "[object Object]"), and a call that never returns (abandoned after the attempt time
// limit with ctx.signal aborted; before, the connector's unit test hung until tap killed it).
import t from 'tap';
import { defineConnector } from '@lgsp/sdk';
import { testConnector } from '@lgsp/sdk/testing';

const envelopeOf = (text: string) => ({
  id: `01a00000-0000-7000-8000-${String(text.length).padStart(12, '0')}`,
  type: 'note.test',
  time: new Date().toISOString(),
  from: { member: '000.00.12.H49', system: 'test-sender' },
  to: { member: '000.00.00.H49', service: 'note' },
  data: { text },
});

t.test('a thrown value that is no Error is read as the runner reads it', async (t) => {
  const harness = await testConnector(defineConnector({
    name: 'throws-things',
    async handle(message) {
      const text = (message.data as { text: string }).text;
      if (text === 'object') throw { retryable: false, code: 'NO_SUCH_RECORD' };
      if (text === 'undefined') throw undefined;
      throw 'plain string';
    },
  }));
  t.teardown(() => harness.stop());
  const object = await harness.handle(envelopeOf('object') as never);
  t.equal(object.outcome, 'dead_lettered', "an object's retryable: false still dead-letters");
  t.equal(object.error?.message, 'handle() threw an object instead of an Error: {"retryable":false,"code":"NO_SUCH_RECORD"}');
  const undef = await harness.handle(envelopeOf('undefined') as never);
  t.equal(undef.outcome, 'retried');
  t.equal(undef.error?.message, 'handle() threw undefined instead of an Error');
  const text = await harness.handle(envelopeOf('string') as never);
  t.equal(text.error?.message, 'plain string');
});

t.test('a call that never returns is abandoned after the attempt time limit', async (t) => {
  let aborted = false;
  const harness = await testConnector(defineConnector({
    name: 'hangs',
    async handle(_message, ctx) {
      ctx.signal.addEventListener('abort', () => (aborted = true));
      return new Promise(() => undefined);
    },
  }), { attemptTimeoutMs: 300 });
  t.teardown(() => harness.stop());
  const began = Date.now();
  const outcome = await harness.handle(envelopeOf('hang') as never);
  t.equal(outcome.outcome, 'retried');
  t.match(outcome.error?.message, /^handle\(\) did not finish within 300 ms \(LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS\)/);
  t.ok(Date.now() - began < 5000, `abandoned after ${Date.now() - began} ms`);
  t.ok(aborted, 'ctx.signal aborted');
});
