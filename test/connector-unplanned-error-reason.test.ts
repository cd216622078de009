// A connector's handle() that fails with an error nobody worded (the engine's SyntaxError of a
// JSON.parse, BigInt('…'), node:assert's AssertionError) quoted the message's data in the failure
// reason: on every delivery_failed / dead_lettered event (so in the audit chain, kept for good), in
// the dead letter's header and in the console. Now that reason names only the class and where;
// the text is in the runner's log under the message id, and the message is retried or
// dead-lettered as before. Reasons worded on purpose (a connector's Error, the SDK's ctx.state
// refusals) are kept as they were.
import t from 'tap';
import { pino } from 'pino';
import { topicsFor } from '../services/platform/topics.js';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';
import { readTopic } from './helpers/topic-reader.js';

/** A fake citizen ID (CCCD): what the data of a real message would be. */
const MARKER = 'CCCD-079099000123';

const SOURCE = `import assert from 'node:assert';
import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'unplanned-errors',
  async handle(message, ctx) {
    const [kind, data] = message.data.text.split('|');
    switch (kind) {
      case 'json': JSON.parse(data); break;
      case 'assert': assert.equal(data, 'expected'); break;
      case 'bigint-permanent':
        try { BigInt(data); } catch (err) { err.retryable = false; throw err; }
        break;
      case 'worded': throw new Error('portal answered 7');
      case 'state': await ctx.state.set('', 1); break;
    }
    return { detail: { ok: true } };
  },
});
`;

const withheld = (errorClass: string, id: string) =>
  `connector error: ${errorClass} thrown by handle() (its message is withheld from the bus because it may quote message data; the runner's log names where it was thrown, under messageId ${id})`;

t.test('an engine error of handle() reaches the bus by its class only; worded reasons are kept', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const runnerLog = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const { bus, send, final } = await startInlineConnector(t, 'unplanned-errors', SOURCE, { runnerLog });
  const cases: Array<{ text: string; reason: (id: string) => string; attempts: number; logged?: string }> = [
    { text: `json|${MARKER}`, reason: (id) => withheld('SyntaxError', id), attempts: 3, logged: 'SyntaxError' },
    { text: `assert|${MARKER}`, reason: (id) => withheld('AssertionError', id), attempts: 3, logged: 'AssertionError' },
    // retryable: false set on the engine's error still dead-letters at once.
    { text: `bigint-permanent|${MARKER}`, reason: (id) => withheld('SyntaxError', id), attempts: 1, logged: 'SyntaxError' },
    { text: 'worded', reason: () => 'portal answered 7', attempts: 3 },
    { text: 'state', reason: () => 'ctx.state: a key is a non-empty string of at most 512 characters, without NUL (U+0000)', attempts: 3 },
  ];
  const ids = await Promise.all(cases.map((c) => send(c.text)));
  for (const [i, c] of cases.entries()) {
    const id = ids[i];
    const view = await final(id);
    t.equal(view.status, 'dead_lettered', `${c.text}: dead-lettered`);
    const failures = view.events.filter((e) => e.event === 'delivery_failed');
    t.equal(failures.length, c.attempts - 1, `${c.text}: retried as before (${c.attempts - 1} times)`);
    for (const f of failures) t.equal(f.detail.reason, c.reason(id), `${c.text}: each failure's reason`);
    const dead = view.events.at(-1)!;
    t.equal(dead.detail.attemptError, c.reason(id), `${c.text}: the dead letter event's attempt error`);
    t.ok(String(dead.detail.reason).endsWith(c.reason(id)), `${c.text}: the dead letter event's reason ends with it`);
    if (c.logged) {
      const line = lines.find((l) => l.messageId === id && l.errorClass === c.logged);
      t.ok(line, `${c.text}: the runner logs the error under the message id`);
      t.match(String(line?.at), /handle/, `${c.text}: with where it was thrown, for whoever debugs the connector`);
      t.notOk(JSON.stringify(line).includes('079099000123'), `${c.text}: but not its text (logs hold no personal data)`);
      t.equal(line?.level, 40, `${c.text}: at warn`);
    }
  }

  const topics = topicsFor(bus.config.topicPrefix);
  const events = await readTopic(bus.config.kafkaBrokers, topics.events, 1);
  t.ok(events.length > 0, 'the events were read');
  t.notOk(events.some((e) => e.value.includes(MARKER) || e.value.includes('079099000123')), 'no event on the events topic (what the audit chain keeps) quotes the data');
  const letters = await readTopic(bus.config.kafkaBrokers, topics.deadLetter('unplanned-errors'), cases.length);
  for (const [i, c] of cases.entries()) {
    const letter = letters.find((l) => l.headers['lgsp-id'] === ids[i]);
    t.ok(letter?.headers['lgsp-dlq-reason'].endsWith(c.reason(ids[i])), `${c.text}: the dead letter's reason header`);
  }
  t.notOk(letters.some((l) => Object.values(l.headers).some((v) => v.includes('079099000123'))), 'no dead letter header quotes the data');
});
