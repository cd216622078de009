// Ledger lookups of single records (the runner asks when a record's batch answer went stale)
// share statements: everything asked in one turn goes in one statement, everything asked while
// it runs in the next — never in the one already running, so no answer predates its question.
import t from 'tap';
import { CoalescedLedgerLookups } from '../services/runner/coalesced-ledger-lookups.js';
import type { LedgerState } from '../services/runner/delivery-ledger.js';

/** A ledger whose statements are held until released, recording the ids each one asked for. */
function heldLedger(known: Map<string, LedgerState>) {
  const statements: { ids: string[]; release(fail?: Error): void }[] = [];
  const ledger = {
    lookupMany(ids: string[]): Promise<Map<string, LedgerState>> {
      return new Promise((resolve, reject) => {
        statements.push({
          ids,
          release: (fail) => (fail ? reject(fail) : resolve(new Map([...known].filter(([id]) => ids.includes(id))))),
        });
      });
    },
  };
  return { ledger, statements };
}

const turn = () => new Promise((r) => setImmediate(r));

t.test('ids asked in one turn share a statement; ids asked meanwhile wait for the next', async (t) => {
  const { ledger, statements } = heldLedger(new Map([['b', 'announced']]));
  const lookups = new CoalescedLedgerLookups(ledger);
  const first = [lookups.state('a'), lookups.state('b'), lookups.state('a')];
  await turn();
  t.equal(statements.length, 1, 'one statement for the turn');
  t.same(statements[0].ids, ['a', 'b'], 'each id once');
  const later = lookups.state('c');
  await turn();
  t.equal(statements.length, 1, 'asked while a statement runs: not sent yet, not added to it');
  statements[0].release();
  t.same(await Promise.all(first), ['no', 'announced', 'no']);
  await turn();
  t.equal(statements.length, 2, 'the next statement starts when the first is answered');
  t.same(statements[1].ids, ['c']);
  statements[1].release();
  t.equal(await later, 'no');
});

t.test('a failed statement rejects its own ids only', async (t) => {
  const { ledger, statements } = heldLedger(new Map([['y', 'unannounced']]));
  const lookups = new CoalescedLedgerLookups(ledger);
  const failing = lookups.state('x');
  await turn();
  const next = lookups.state('y');
  statements[0].release(new Error('PostgreSQL unavailable'));
  await t.rejects(failing, /PostgreSQL unavailable/);
  await turn();
  statements[1].release();
  t.equal(await next, 'unannounced', 'the next statement answers as usual');
  t.equal(statements.length, 2);
});
