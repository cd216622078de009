// Each service reads the registry file on its own timer (every 2 s), so right after an edit one
// instance may act on it while another has not read it yet: a runner refused (and dead-lettered,
// "not delivered by relay") a message a gateway had accepted for a service just added, and a
// second gateway refused the token the first had issued to a system just added. Whatever the
// registry in use refuses for want of an entry (an unknown member, service or client, no access
// right, a role or key it does not hold yet) is asked again of the file as it is now. Here every
// timer is set far beyond the test (ten minutes), so only those looks can find the edit.
import t from 'tap';
import { BusClient } from '../services/platform/bus-client.js';
import { generateSigningJwk, toPublicJwk } from '../services/platform/keystore.js';
import { editRegistryFile } from './helpers/registry-file.js';
import { startReceivingSystem } from './helpers/receiving-system.js';
import { eventually, startTestBus } from './helpers/test-bus.js';

const NEW_MEMBER = '000.00.98.H49';

t.test('an edit no instance has read on its timer applies at once, wherever it is met first', async (t) => {
  const bus = await startTestBus(t, { name: 'registry-read-at-once', gateways: 2, registryWatchMs: 600_000 });
  const [first, second] = bus.gateways;
  const { endpoint, received } = await startReceivingSystem(t);

  const key = await generateSigningJwk();
  editRegistryFile(bus.config.registryFile, (data) => {
    data.members.push({ code: NEW_MEMBER, name: 'Sở Mới (thêm khi đang chạy)', level: 'department', parent: '000.00.00.H49' });
    data.systems.push({ clientId: 'so-moi-qlvb', member: NEW_MEMBER, name: 'QLVB Sở Mới', roles: ['agency'], auth: { jwks: { keys: [toPublicJwk(key.privateJwk)] } }, endpoint });
    // On the notice topic the relay already reads: no restart of the relay is needed for it.
    data.services.push({ code: 'notice', provider: NEW_MEMBER, system: 'so-moi-qlvb', connector: 'relay', messageTypes: ['notice.send'] });
  });

  // The first gateway: a message to the new member is accepted (not 422 UNKNOWN_MEMBER)...
  const sender = new BusClient(first.url, bus.clients.get('so-tttt-qlvb')!, bus.config.issuer);
  const sent = await sender.send({ type: 'notice.send', to: { member: NEW_MEMBER, service: 'notice' }, payload: { subject: 'Chào Sở Mới', body: 'Nội dung' } });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const id = (sent.body as { id: string }).id;
  // ...and the runner delivers it (not rejected for a service it did not know).
  await eventually(() => received.includes(id), 15_000);
  const status = await eventually(async () => {
    const res = await sender.request('GET', `/v1/messages/${id}`);
    return (res.body as { status?: string }).status === 'delivered' ? res.body : null;
  }, 15_000);
  t.match(status, { id, status: 'delivered' }, 'delivered, not dead-lettered');
  t.notOk((status as { events: { event: string }[] }).events.some((e) => e.event === 'dead_lettered' || e.event === 'rejected'), 'its timeline has no refusal');

  // The new system gets a token from the first gateway, and the second takes it.
  const newcomer = new BusClient(first.url, { clientId: 'so-moi-qlvb', kid: key.kid, privateJwk: key.privateJwk }, bus.config.issuer);
  const token = await newcomer.accessToken();
  const members = await fetch(`${second.url}/v1/members`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(members.status, 200, 'the second gateway takes the token of a system it had not read');
  t.ok(((await members.json()) as { members: { code: string }[] }).members.some((m) => m.code === NEW_MEMBER), 'and lists the new member');
});
