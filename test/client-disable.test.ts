// A system the operator disables in the registry (`"disabled": true`), or removes from it, loses
// its access at once on every service — the tokens it already holds included, and a console
// session opened with one — without restarting anything; other systems are not touched, and a
// system enabled again gets tokens again.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { startConsole } from '../services/console/console-service.js';
import { LiveRegistry } from '../services/platform/live-registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { editRegistryFile } from './helpers/registry-file.js';
import { eventually, seedRegistry, startTestBus } from './helpers/test-bus.js';
import type { RegistryData } from '../services/platform/registry.js';

t.test('a client disabled or removed in the registry file is refused everywhere within seconds', async (t) => {
  const bus = await startTestBus(t, { name: 'client-disable' });
  const runnerUrl = bus.runner!.url;
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: runnerUrl } });
  t.teardown(() => consoleSvc.stop());
  const file = bus.config.registryFile;
  const editRegistry = (change: (data: RegistryData) => void) => editRegistryFile(file, change);
  const get = (url: string, headers: Record<string, string>) => fetch(url, { headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  const agencyToken = await bus.client('so-tp-qlvb').accessToken();
  const otherToken = await bus.client('so-tttt-qlvb').accessToken();
  const operatorToken = await bus.client('lgsp-operator').accessToken();
  const login = await fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }) });
  t.equal(login.status, 200, 'the operator logs in to the console');
  const session = { cookie: login.headers.get('set-cookie')!.split(';')[0] };
  t.equal((await get(`${bus.gateway.url}/v1/members`, bearer(agencyToken))).status, 200, 'before: the agency reads');
  t.equal((await get(`${runnerUrl}/v1/connectors`, bearer(operatorToken))).status, 200, 'before: the operator reads the runner');
  t.equal((await get(`${consoleSvc.url}/v1/console/registry`, session)).status, 200, 'before: the console session works');

  editRegistry((data) => {
    for (const s of data.systems) if (s.clientId === 'so-tp-qlvb' || s.clientId === 'lgsp-operator') s.disabled = true;
  });
  const refused = await eventually(async () => {
    const r = await get(`${bus.gateway.url}/v1/members`, bearer(agencyToken));
    return r.status === 401 ? r : null;
  }, 15_000);
  t.match(refused.headers.get('www-authenticate'), /error="invalid_token"/);
  t.match(await refused.json(), { code: 'INVALID_TOKEN', detail: /client so-tp-qlvb is disabled in the registry/ });
  await eventually(async () => (await get(`${runnerUrl}/v1/connectors`, bearer(operatorToken))).status === 401, 15_000);
  const consoleRefused = await eventually(async () => {
    const r = await get(`${consoleSvc.url}/v1/console/registry`, bearer(operatorToken));
    return r.status === 401 ? r : null;
  }, 15_000);
  // A login with a disabled client is refused too (below): the console must not advise one.
  const consoleRefusal = (await consoleRefused.json()) as { detail: string };
  t.match(consoleRefusal.detail, /disabled in the registry: a new token for this client is refused/);
  t.notMatch(consoleRefusal.detail, /log in again/, 'a bearer token of a disabled client: no advice to log in again');
  const ended = await eventually(async () => {
    const r = await get(`${consoleSvc.url}/v1/console/registry`, session);
    return r.status === 401 ? r : null;
  }, 15_000);
  const endedBody = (await ended.json()) as { code: string; detail: string };
  t.match(endedBody, { code: 'INVALID_TOKEN', detail: /console session has ended .*disabled/ });
  t.notMatch(endedBody.detail, /log in again/, 'a session of a disabled client: no advice to log in again');
  t.equal((await get(`${consoleSvc.url}/v1/console/registry`, session)).status, 401, 'and it stays ended');
  // No new token: the credentials are right, the client is disabled.
  await t.rejects(bus.client('so-tp-qlvb').accessToken(), /token request failed: 401 client so-tp-qlvb is disabled in the registry/);
  const relogin = await fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }) });
  t.equal(relogin.status, 401, 'the operator cannot log in again');
  // Told why, not "wrong secret": the gateway says "disabled" only once the secret was right.
  t.match(await relogin.json(), { code: 'CLIENT_DISABLED', detail: /client lgsp-operator is disabled in the registry/ });
  const wrongSecret = await fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: 'not-the-secret' }) });
  t.match(await wrongSecret.json(), { code: 'LOGIN_FAILED' }, 'a wrong secret for a disabled client learns nothing about it');
  // Nobody else is touched.
  t.equal((await get(`${bus.gateway.url}/v1/members`, bearer(otherToken))).status, 200, 'another agency still reads');
  const sent = await bus.client('so-tttt-qlvb').send({ type: 'notice.send', to: { member: '000.00.15.H49' }, payload: { subject: 'Thông báo', body: 'vẫn gửi được' } });
  t.equal(sent.status, 202, 'and still sends');

  // Removed from the registry altogether: refused the same way.
  let removedEntry: RegistryData['systems'][number] | undefined;
  let removedRights: RegistryData['accessRights'] = [];
  editRegistry((data) => {
    removedEntry = data.systems.find((s) => s.clientId === 'so-tttt-qlvb');
    removedRights = data.accessRights.filter((a) => a.client === 'so-tttt-qlvb');
    data.systems = data.systems.filter((s) => s.clientId !== 'so-tttt-qlvb');
    data.accessRights = data.accessRights.filter((a) => a.client !== 'so-tttt-qlvb');
  });
  const removed = await eventually(async () => {
    const r = await get(`${bus.gateway.url}/v1/members`, bearer(otherToken));
    return r.status === 401 ? r : null;
  }, 15_000);
  t.match(await removed.json(), { detail: /client so-tttt-qlvb is not in the registry/ });

  // That file is not valid (services still name so-tttt-qlvb): it takes away, it does not give.
  // Enabling so-tp-qlvb in it leaves it disabled, as the registry in use has it.
  editRegistry((data) => {
    for (const s of data.systems) if (s.clientId === 'so-tp-qlvb') delete s.disabled;
  });
  await new Promise((r) => setTimeout(r, 4000));
  await t.rejects(bus.client('so-tp-qlvb').accessToken(), /disabled in the registry/, 'not enabled by a file that is not valid');
  // Enabled again by a valid file: a new token works (the one it held is still refused until then).
  editRegistry((data) => {
    data.systems.push(removedEntry!);
    data.accessRights.push(...removedRights);
  });
  const again = await eventually(async () => {
    const token = await bus.client('so-tp-qlvb').accessToken().catch(() => null);
    return token && (await get(`${bus.gateway.url}/v1/members`, bearer(token))).status === 200 ? token : null;
  }, 15_000);
  t.ok(again, 'enabled again: tokens are issued and accepted');
});

t.test('a registry file that cannot be read keeps the clients loaded before', async (t) => {
  const registryWith = (systems: { clientId: string; disabled?: boolean }[]) => {
    const seeds = seedRegistry();
    const member = seeds.members[0].code;
    return JSON.stringify({ members: seeds.members, systems: systems.map((s) => ({ member, name: s.clientId, auth: {}, ...s })), services: [], accessRights: [] });
  };
  const dir = t.testdir({ 'registry.json': registryWith([{ clientId: 'a1' }, { clientId: 'b1', disabled: true }]) });
  const file = `${dir}/registry.json`;
  const clients = LiveRegistry.watching(file, new SchemaCatalogue(), undefined, 50);
  t.equal(clients.refusal('a1'), null);
  t.match(clients.refusal('b1'), /disabled/);
  t.match(clients.refusal('c1'), /not in the registry/);
  writeFileSync(file, '{"systems": [ {"clientId": "a1", "disab');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(clients.refusal('a1'), null, 'a half-written file changes nothing');
  t.match(clients.refusal('b1'), /disabled/);
  t.match(clients.refused?.reason, /not valid JSON \(at position \d+/, 'and says why, without the text around the error');
  writeFileSync(file, registryWith([{ clientId: 'b1' }]));
  await eventually(() => clients.refusal('a1') !== null, 5000);
  t.equal(clients.refusal('b1'), null, 'the next good file applies');
  t.match(clients.refusal('a1'), /not in the registry/);
  t.equal(clients.refused, null);
});
