// Each service reads the registry file on its own timer, so right after an edit one may act on it
// while another has not read it yet. A gateway that took a message for a service just added must
// not see the runner refuse it (dead-lettered, "not delivered by relay") because the runner's
// turn to read the file had not come: the runner reads the file at once when a record names a
// service it does not know. Here the runner's timer is set far beyond the test (ten minutes), so
// only that look can find the new service.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningJwk, toPublicJwk } from '../services/platform/keystore.js';
import { editRegistryFile } from './helpers/registry-file.js';
import { eventually, startTestBus } from './helpers/test-bus.js';

const NEW_MEMBER = '000.00.98.H49';

t.test('a message for a service the gateway knows and the runner has not read yet is delivered', async (t) => {
  const bus = await startTestBus(t, { name: 'registry-runner-behind', runnerRegistryWatchMs: 600_000 });
  const received: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['lgsp-message-id']));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox`;

  const key = await generateSigningJwk();
  editRegistryFile(bus.config.registryFile, (data) => {
    data.members.push({ code: NEW_MEMBER, name: 'Sở Mới (thêm khi đang chạy)', level: 'department', parent: '000.00.00.H49' });
    data.systems.push({ clientId: 'so-moi-qlvb', member: NEW_MEMBER, name: 'QLVB Sở Mới', roles: ['agency'], auth: { jwks: { keys: [toPublicJwk(key.privateJwk)] } }, endpoint });
    // On the notice topic the relay already reads: no restart of the relay is needed for it.
    data.services.push({ code: 'notice', provider: NEW_MEMBER, system: 'so-moi-qlvb', connector: 'relay', messageTypes: ['notice.send'] });
  });
  const sender = bus.client('so-tttt-qlvb');
  // The gateway reads the file every 2 s: once it lists the member, it routes to the new service.
  await eventually(async () => ((await sender.request('GET', '/v1/members')).body as { members: { code: string }[] }).members.some((m) => m.code === NEW_MEMBER), 15_000);

  const sent = await sender.send({ type: 'notice.send', to: { member: NEW_MEMBER, service: 'notice' }, payload: { subject: 'Chào Sở Mới', body: 'Nội dung' } });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const id = (sent.body as { id: string }).id;
  await eventually(() => received.includes(id), 15_000);
  const status = await eventually(async () => {
    const res = await sender.request('GET', `/v1/messages/${id}`);
    return (res.body as { status?: string }).status === 'delivered' ? res.body : null;
  }, 15_000);
  t.match(status, { id, status: 'delivered' }, 'delivered, not dead-lettered');
  t.notOk((status as { events: { event: string }[] }).events.some((e) => e.event === 'dead_lettered' || e.event === 'rejected'), 'its timeline has no refusal');
});
