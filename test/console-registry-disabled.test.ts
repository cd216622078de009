// Disabling a system in an incident (a leaked key) is done in the registry file; the operator then
// looks in the console's registry view (Danh bạ) to see that it took. The view listed a disabled
// system exactly like an enabled one. Each system now says whether it is refused (`disabled`),
// by the registry in use or by a refused file that disables it (live-registry.ts), and the page
// marks it.
import t from 'tap';
import { openChromiumPage } from './helpers/chromium-page.js';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { editRegistryFile } from './helpers/registry-file.js';

const SYSTEM = 'so-tp-qlvb';

t.test('the registry view says which systems are disabled', async (t) => {
  const bus = await startTestBus(t, { name: 'console-registry-disabled', runner: false });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const login = await fetch(`${consoleSvc.url}/v1/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'lgsp-observer', clientSecret: bus.clients.get('lgsp-observer')!.clientSecret }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  const systemView = async () => {
    const r = await fetch(`${consoleSvc.url}/v1/console/registry`, { headers: { cookie } });
    if (r.status !== 200) throw new Error(`registry view answered ${r.status}`);
    return ((await r.json()) as { systems: Array<{ clientId: string; disabled?: boolean }> }).systems.find((s) => s.clientId === SYSTEM)!;
  };
  t.equal((await systemView()).disabled, false, 'an enabled system says so');

  editRegistryFile(bus.config.registryFile, (data) => {
    data.systems.find((s) => s.clientId === SYSTEM)!.disabled = true;
  });
  await eventually(async () => (await systemView()).disabled === true, 10_000);
  t.equal((await systemView()).disabled, true, 'the system disabled in the file shows as disabled');

  // Enabled again, but in a file refused for a typo elsewhere: it stays refused, and says so.
  editRegistryFile(bus.config.registryFile, (data) => {
    delete data.systems.find((s) => s.clientId === SYSTEM)!.disabled;
    (data as unknown as Record<string, unknown>).typo = true;
  });
  await new Promise((r) => setTimeout(r, 3000));
  t.equal((await systemView()).disabled, true, 'a refused file does not show it enabled');

  // The page marks it.
  const { page } = await openChromiumPage(t, { locale: 'vi-VN' });
  await page.goto(consoleSvc.url);
  await page.fill('#client-id', 'lgsp-observer');
  await page.fill('#client-secret', bus.clients.get('lgsp-observer')!.clientSecret!);
  await page.click('#login-form button[type=submit]');
  await page.locator('#app-view').waitFor({ state: 'visible' });
  await page.click('.tabs button[data-tab="registry"]');
  const row = page.locator('#reg-systems tr', { hasText: SYSTEM }).first();
  await row.locator('[data-disabled]').waitFor();
  t.match(await row.innerText(), /đã vô hiệu hóa/, 'the disabled system is marked in Vietnamese');
  t.equal(await page.locator('#reg-systems [data-disabled]').count(), 1, 'and only that one');
});
