// A dossier comes back to a status: processing → supplement_requested (yêu cầu bổ sung) →
// processing, the most common loop of a one-stop-shop dossier. Retries leave the original order,
// so a step of the loop may overtake the one before it while that one waits out the portal's
// Retry-After:
// - "supplement_requested → processing" ran while "processing → supplement_requested" waited:
//   the portal, still at processing from the first pass, acknowledged it without recording it
//   (as it acknowledges a step to the status it holds), both messages ended `delivered`, and the
//   retried request for a supplement then left the portal at supplement_requested while the
//   agency had the dossier back in processing;
// - "processing → processed" ran while "supplement_requested → processing" waited: the portal
//   had "already been through processing", so the step was dead-lettered as contradicting the
//   dossier's course, though only its predecessor was missing.
// Now the first waits for the portal to reach its starting status, the second waits for the
// earlier update, and the portal ends with the agency's history.
import t from 'tap';
import { startDossierBus, SO_TP } from './helpers/dossier-bus.js';

const at = (day: number, hour: number) => `2026-01-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00+07:00`;

t.test('a supplement loop whose steps overtake one another reaches the portal in the agency order', async (t) => {
  const d = await startDossierBus(t, 'dossier-supplement-loop');
  const code = `${SO_TP}-260115-0701`;
  const historyOf = async () => (await d.portalDossiers({ code }))[0].statusHistory.map((h) => h.status);

  await d.waitStatus(await d.send('dossier.sync', d.syncPayload(code, { status: 'accepted' })), 'delivered');
  await d.waitStatus(await d.send('dossier.progress', d.progressPayload(code, 'accepted', 'processing', at(16, 9))), 'delivered');

  // The next portal call (the request for a supplement's) is throttled: it waits 2 s, the step
  // sent after it does not.
  await d.setFaults({ burst: { status: 429, count: 1, retryAfterSeconds: 2 } });
  const supplement = await d.send('dossier.progress', d.progressPayload(code, 'processing', 'supplement_requested', at(17, 9)));
  const back = await d.send('dossier.progress', d.progressPayload(code, 'supplement_requested', 'processing', at(18, 9)));
  const supplementView = await d.waitStatus(supplement, 'delivered');
  t.ok(supplementView.events.some((e) => e.event === 'delivery_failed'), 'the request for a supplement was throttled once');
  await d.waitStatus(back, 'delivered');
  t.same(await historyOf(), ['2', '4', '5', '4'], 'the portal recorded both steps, in order');
  t.equal((await d.portalDossiers({ code }))[0].status, '4', 'and holds processing, as the agency does');

  // A second pass: the way back to processing is throttled, the next step overtakes it.
  await d.waitStatus(await d.send('dossier.progress', d.progressPayload(code, 'processing', 'supplement_requested', at(19, 9))), 'delivered');
  await d.setFaults({ burst: { status: 429, count: 1, retryAfterSeconds: 2 } });
  const backAgain = await d.send('dossier.progress', d.progressPayload(code, 'supplement_requested', 'processing', at(20, 9)));
  const processed = await d.send('dossier.progress', d.progressPayload(code, 'processing', 'processed', at(21, 9)));
  await d.waitStatus(backAgain, 'delivered');
  const processedView = await d.waitStatus(processed, 'delivered');
  t.notOk(processedView.events.some((e) => e.event === 'dead_lettered'), 'the step after it waited instead of being dead-lettered');
  t.same(await historyOf(), ['2', '4', '5', '4', '5', '4', '9'], 'the whole history, in order');
  await d.setFaults({});
});

t.test('a data update retried after the request for a supplement does not send the dossier back to processing', async (t) => {
  // A dossier.sync that updates data carries the status the system had when it sent it; retried
  // after a later request for a supplement went through, the portal took its "processing" again
  // (supplement_requested → processing is a step of the lifecycle) and the dossier went back.
  const d = await startDossierBus(t, 'dossier-supplement-loop-sync');
  const code = `${SO_TP}-260115-0702`;
  await d.waitStatus(await d.send('dossier.sync', d.syncPayload(code, { status: 'accepted' })), 'delivered');
  await d.waitStatus(await d.send('dossier.progress', d.progressPayload(code, 'accepted', 'processing', at(16, 9))), 'delivered');
  await d.setFaults({ burst: { status: 429, count: 1, retryAfterSeconds: 2 } });
  const update = await d.send('dossier.sync', d.syncPayload(code, { status: 'processing', dueAt: '2026-02-05T17:00:00+07:00' }));
  const supplement = await d.send('dossier.progress', d.progressPayload(code, 'processing', 'supplement_requested', at(17, 9)));
  await d.waitStatus(supplement, 'delivered');
  const updateView = await d.waitStatus(update, 'delivered');
  t.ok(updateView.events.some((e) => e.event === 'delivery_failed'), 'the update was throttled once');
  t.match(updateView.events.find((e) => e.event === 'delivered')?.detail, { portalCall: 'DongBoHoSoMC', isUpdating: true, keptPortalStatus: '5' }, 'it kept the portal status');
  const [portal] = await d.portalDossiers({ code });
  t.equal(portal.record.NgayHenTra, '20260205170000', 'the data was updated');
  t.equal(portal.status, '5', 'the dossier is still waiting for the supplement');
  t.same(portal.statusHistory.map((h) => h.status), ['2', '4', '5'], 'no step back to processing');
  await d.setFaults({});
});
