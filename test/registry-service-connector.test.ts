// A registry service names the connector that delivers its message types (step 5 of
// docs/write-a-connector.md). An entry naming another connector — a misspelt "connector", or one
// that declares other types — had its messages accepted (202) onto a topic no runner reads, and
// they stayed `accepted` for ever. The gateway now refuses them before anything is kept, saying
// which entry is wrong, and only to a caller that has the right to the service.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a service whose registry entry names the wrong connector is refused, not accepted for nobody', async (t) => {
  const bus = await startTestBus(t, {
    name: 'service-connector',
    runner: false,
    registry: (registry) => {
      for (const s of registry.services) {
        if (s.code === 'notice' && s.provider === '000.00.15.H49') s.connector = 'relai';
        if (s.code === 'dvcqg-lookup') s.connector = 'relay';
      }
    },
  });
  const sender = bus.client('so-tttt-qlvb');
  const notice = { subject: 'Thông báo lịch họp', body: 'Kính gửi' };

  const misspelt = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: notice });
  t.equal(misspelt.status, 422, 'not 202');
  t.equal(misspelt.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.match(misspelt.body, {
    code: 'UNKNOWN_SERVICE',
    detail: /Service "notice" of 000\.00\.15\.H49 cannot take notice\.send: its registry entry names connector "relai", and notice\.send is delivered by connector "relay"\. Nothing was accepted/,
    errors: [{ field: 'to.service' }],
  });
  t.equal(misspelt.headers.get('location'), null, 'no message to follow');

  const unnamed = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49' }, payload: notice });
  t.equal(unnamed.status, 422, 'the service found by type alike');
  t.match(unnamed.body, { code: 'UNKNOWN_SERVICE', errors: [{ field: 'type' }] });

  const list = await sender.send({ type: 'notice.send', to: [{ member: '000.00.00.H49', service: 'notice' }, { member: '000.00.15.H49' }], payload: notice });
  t.equal(list.status, 422, 'one wrong entry among the recipients refuses the whole submission');
  t.match(list.body, { code: 'UNKNOWN_SERVICE' });

  const wellRegistered = await sender.send({ type: 'notice.send', to: { member: '000.00.00.H49', service: 'notice' }, payload: notice });
  t.equal(wellRegistered.status, 202, 'a service whose entry names the right connector still takes it');

  const outsider = await bus.client('so-tp-qlvb').request('POST', '/v1/requests', { type: 'dossier.lookup', to: { member: '000.00.00.G22', service: 'dvcqg-lookup' }, payload: { dossierCode: '000.00.15.H49-260115-0001' } });
  t.equal(outsider.status, 403, 'a caller without the right learns nothing of the entry');
  t.notMatch(JSON.stringify(outsider.body), /connector/);

  const lookup = await bus.client('so-tp-motcua').request('POST', '/v1/requests', { type: 'dossier.lookup', to: { member: '000.00.00.G22', service: 'dvcqg-lookup' }, payload: { dossierCode: '000.00.15.H49-260115-0001' } });
  t.equal(lookup.status, 422, 'POST /v1/requests does not wait for a reply nobody will give');
  t.match(lookup.body, { code: 'UNKNOWN_SERVICE', detail: /names connector "relay", and dossier\.lookup is delivered by connector "one-stop-shop"/ });
});
