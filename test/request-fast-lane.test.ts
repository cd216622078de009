// A request somebody waits on (POST /v1/requests) does not wait behind the runner's ledger
// lookup of other messages. The runner asks the delivery ledger about fetched records in
// batches, one batch at a time; under a burst that lookup takes hundreds of milliseconds, and a
// dossier.lookup fetched meanwhile used to wait for it (the first lookups of the retry storm
// in test/retry-storm.test.ts). Here that batch lookup is held until the request has been
// answered: the request must be answered while it is held, and the held message is delivered
// once it is let go. Then the request's own lookup fails once (PostgreSQL unavailable): the
// request waits and asks again, and is still answered.
import t from 'tap';
import { startDossierBus, PORTAL_MEMBER, SO_TP } from './helpers/dossier-bus.js';

type LedgerLike = { lookupMany(ids: string[]): Promise<Map<string, unknown>> };

t.test('a request is answered while a batch lookup of other messages is held', async (t) => {
  const d = await startDossierBus(t, 'request-fast-lane');
  const oneStop = d.bus.client('so-tp-motcua');
  await oneStop.accessToken();
  const worker = d.bus.runner!.slots.get('one-stop-shop')!.worker!;
  const ledger = (worker as unknown as { deps: { ledger: LedgerLike } }).deps.ledger;
  const lookupMany = ledger.lookupMany.bind(ledger);

  // The next lookup the runner makes (the batch holding the dossier.sync) waits for `letGo`.
  let letGo!: () => void;
  const gate = new Promise<void>((r) => (letGo = r));
  let held: string[] | null = null;
  let failNext = false;
  t.teardown(() => letGo());
  ledger.lookupMany = async (ids) => {
    if (failNext) {
      failNext = false;
      throw new Error('Connection terminated unexpectedly (injected by the test)');
    }
    if (held === null) {
      held = ids;
      await gate;
    }
    return lookupMany(ids);
  };

  const syncId = await d.send('dossier.sync', d.syncPayload(`${SO_TP}-260301-0001`));
  for (let i = 0; i < 200 && held === null; i++) await new Promise((r) => setTimeout(r, 25));
  t.same(held, [syncId], 'the batch lookup holding the dossier.sync is held');

  const began = Date.now();
  const r = await oneStop.request('POST', '/v1/requests', { type: 'dossier.lookup', to: { member: PORTAL_MEMBER, service: 'dvcqg-lookup' }, correlationId: `${SO_TP}-260301-0002`, payload: { dossierCode: `${SO_TP}-260301-0002` } }, { prefer: 'wait=10' });
  t.equal(r.status, 200, `the request is answered while the batch lookup is held (${Date.now() - began} ms): ${JSON.stringify(r.body)}`);
  t.equal(r.body?.reply?.found, false, 'with what the portal holds (nothing yet)');
  t.equal((await d.bus.client('lgsp-operator').status(syncId)).body.status, 'accepted', 'the held message has not been delivered yet');

  letGo();
  const view = await d.waitStatus(syncId, 'delivered');
  t.equal(view.events.filter((e) => e.event === 'delivered').length, 1, 'the held message is delivered once it is let go');

  failNext = true;
  const again = await oneStop.request('POST', '/v1/requests', { type: 'dossier.lookup', to: { member: PORTAL_MEMBER, service: 'dvcqg-lookup' }, correlationId: `${SO_TP}-260301-0001`, payload: { dossierCode: `${SO_TP}-260301-0001` } }, { prefer: 'wait=10' });
  t.equal(failNext, false, 'the request\'s own ledger lookup failed once');
  t.equal(again.status, 200, `a request whose ledger lookup failed is asked again and answered: ${JSON.stringify(again.body)}`);
  t.equal(again.body?.reply?.found, true, 'with the dossier delivered meanwhile');
});
