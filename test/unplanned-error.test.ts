// Which errors keep their text as a failure's reason (unplanned-error.ts), on the real module and
// through the SDK's test harness, which must report the reason the runner records: the engine's
// errors (which quote the data they choked on) by their class only, every worded error as it is,
// and the retry classification of the original either way.
import assert from 'node:assert';
import { connect } from 'node:net';
import t from 'tap';
import { defineConnector, isRetryable, PermanentError, RetryableError, UsageError, waitsForEarlier, WaitForEarlierMessage } from '@lgsp/sdk';
import { testConnector } from '@lgsp/sdk/testing';
import { forTheBus, unplannedErrorClass } from '../services/platform/unplanned-error.js';
import { freePort } from '../services/local-processes/free-port.js';

const MARKER = 'CCCD-079099000123';

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('nothing thrown');
}

/** The error a refused TCP connection gives (a Node system error: a plain Error with a code). */
function refusedConnection(): Promise<Error> {
  return new Promise((resolve) => connect({ port: 1, host: '127.0.0.1' }).on('error', resolve));
}

t.test('the engine\'s errors, generated assertions and Node\'s argument checks are unplanned', async (t) => {
  t.equal(unplannedErrorClass(thrownBy(() => JSON.parse(MARKER))), 'SyntaxError');
  t.equal(unplannedErrorClass(thrownBy(() => BigInt(MARKER))), 'SyntaxError');
  t.equal(unplannedErrorClass(thrownBy(() => (null as unknown as { a: number }).a)), 'TypeError');
  t.equal(unplannedErrorClass(thrownBy(() => new Array(-1))), 'RangeError');
  t.equal(unplannedErrorClass(thrownBy(() => decodeURIComponent('%'))), 'URIError');
  t.equal(unplannedErrorClass(thrownBy(() => assert.equal(MARKER, 'expected'))), 'AssertionError');
  t.equal(unplannedErrorClass(thrownBy(() => Buffer.from(12 as unknown as string))), 'TypeError [ERR_INVALID_ARG_TYPE]');
});

t.test('worded errors keep their text', async (t) => {
  class OwnError extends TypeError {}
  t.equal(unplannedErrorClass(new Error('portal answered 7')), null, 'a plain Error');
  t.equal(unplannedErrorClass(new PermanentError('field ngaySinh missing')), null, 'a PermanentError');
  t.equal(unplannedErrorClass(new RetryableError('portal busy')), null, 'a RetryableError');
  t.equal(unplannedErrorClass(new OwnError('own words')), null, "a connector's subclass of an engine class");
  const usage = new UsageError('ctx.state: a key is …');
  t.equal(unplannedErrorClass(usage), null, "the SDK's UsageError");
  t.ok(usage instanceof TypeError, 'which is a TypeError to connector code');
  t.equal(usage.name, 'TypeError', 'and prints as one');
  t.equal(unplannedErrorClass(thrownBy(() => assert.ok(false, 'receipt missing'))), null, 'an assertion with its own message');
  t.equal(unplannedErrorClass(await refusedConnection()), null, "Node's system error (ECONNREFUSED)");
  const fetchFailed = await fetch(`http://127.0.0.1:${await freePort()}/`).then(() => null, (err: Error) => err);
  t.equal(fetchFailed?.message, 'fetch failed', "fetch's failure is a TypeError");
  t.equal(unplannedErrorClass(fetchFailed), null, 'kept: fixed words about the network, read by the circuit');
  const badUrl = await fetch(`http://[${MARKER}]/`).then(() => null, (err: Error) => err);
  t.equal(unplannedErrorClass(badUrl), 'TypeError', "fetch's other TypeErrors quote the URL: withheld");
  t.equal(unplannedErrorClass('a string'), null, 'not an Error');
});

t.test('the replacement keeps the retry classification', async (t) => {
  const permanent = Object.assign(thrownBy(() => JSON.parse(MARKER)), { retryable: false });
  const kept = forTheBus(permanent, 'handle()', 'm-1');
  t.equal(kept.withheld, 'SyntaxError');
  t.notMatch(kept.error.message, MARKER);
  t.equal(isRetryable(kept.error), false, 'retryable: false carried over');
  t.equal(kept.error.cause, permanent, 'the original is its cause');
  const later = forTheBus(Object.assign(thrownBy(() => JSON.parse(MARKER)), { retryAfterMs: 5000 }), 'handle()', 'm-2').error as Error & { retryAfterMs?: number };
  t.equal(isRetryable(later), true, 'an engine error is retried, as before');
  t.equal(later.retryAfterMs, 5000, 'retryAfterMs carried over');
  t.equal(waitsForEarlier(forTheBus(Object.assign(new TypeError(MARKER), { waitsForEarlier: true }), 'handle()', 'm-3').error), true, 'waitsForEarlier carried over');
  const worded = new WaitForEarlierMessage('dossier not created yet');
  t.equal(forTheBus(worded, 'handle()', 'm-4').error, worded, 'a worded error is itself');
});

t.test("the harness reports the runner's reason, with the original as its cause", async (t) => {
  const harness = await testConnector(defineConnector({
    name: 'parses-payload',
    async handle(message) {
      JSON.parse((message.data as { text: string }).text);
    },
  }));
  t.teardown(() => harness.stop());
  const outcome = await harness.send('parses-payload.test', { text: MARKER });
  t.equal(outcome.outcome, 'retried', 'retried, as before');
  t.equal(outcome.error?.message, `connector error: SyntaxError thrown by handle() (its message is withheld from the bus because it may quote message data; the runner's log names where it was thrown, under messageId ${outcome.envelope.id})`);
  t.ok(outcome.error?.cause instanceof SyntaxError, 'the original is its cause, for the test to read');
  const line = harness.logs.find((l) => l.level === 'warn' && (l.obj as { messageId?: string }).messageId === outcome.envelope.id);
  t.ok((line?.obj as { at?: string } | undefined)?.at, 'the log names where it was thrown, as the runner logs it');
  t.notOk(JSON.stringify(line).includes(MARKER), 'but not its text');
});
