// Agency systems choose much of what the console shows: correlation ids, business statuses,
// event details, failure reasons. A bidirectional override in one (U+202E) turned the text after
// it around on the operator's screen ("evil" read "live", a dead letter's reason swallowed the
// "replayed by" after it), and zero-width or control characters made two values look alike. The
// page now shows such a character as a marker naming it (‹U+202E›), in every view built with its
// DOM helper. Real Chromium (Debian's) on the console's own page files; the API is stubbed, as
// only the page's drawing is under test.
import t from 'tap';
import Fastify from 'fastify';
import type { Route } from 'playwright-core';
import { openChromiumPage } from './helpers/chromium-page.js';
import { webUiRoutes } from '../services/console/routes/web-ui.js';

const RLO = '\u202E';
const at = '2026-12-06T09:00:00.000Z';
const row = { id: 'm-1', lastEventAt: at, type: 'notice.send', fromMember: '000.00.12.H49', toMember: '000.00.15.H49', toService: 'notice', status: 'failed', businessStatus: `${RLO}evil` };

t.test('characters that act on the text around them are shown, not obeyed', { timeout: 90_000 }, async (t) => {
  const app = Fastify();
  await app.register(webUiRoutes);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());

  const { page } = await openChromiumPage(t, { viewport: { width: 1440, height: 960 } });
  const json = (route: Route, body: unknown) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route('**/v1/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/v1/console/session') return json(route, { authenticated: true, clientId: 'lgsp-observer', member: '000.00.12.H49', roles: ['observer'] });
    if (path === '/v1/console/registry') return json(route, { members: [], systems: [], services: [], accessRights: [] });
    if (path === '/v1/console/live') return route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'retry: 600000\n\n' });
    if (path === '/v1/console/messages') return json(route, { items: [row], nextBefore: null });
    if (path === '/v1/console/messages/m-1') {
      return json(route, {
        message: { ...row, correlationId: `CV-${RLO}live\u202C-1\u200B\u0007`, fromSystem: 'so-tttt-qlvb' },
        totalMs: 5,
        hops: [{ event: 'dead_lettered', hop: 'runner/relay', at, sinceAcceptedMs: 5, sincePreviousMs: null, detail: { reason: `receiver said ${RLO}gnp.exe` } }],
        deadLetters: [{ failedAt: at, connector: 'relay', reason: `receiver said ${RLO}`, replayedAt: at, replayedBy: 'console/lgsp-operator' }],
        related: [],
      });
    }
    return json(route, {});
  });

  await page.goto(url);
  await page.locator('#app-view').waitFor({ state: 'visible' });
  await page.click('.tabs button[data-tab="messages"]');
  const result = page.locator('#message-results tr[data-id="m-1"]');
  await result.waitFor();
  const cells = await result.locator('td').allTextContents();
  t.notOk(cells.some((c) => c.includes(RLO)), 'no override in the search results');
  t.equal(cells.at(-1), '‹U+202E›evil', 'the business status shows its override as a marker');

  await result.click();
  await page.locator('#trace-hops li').waitFor();
  const trace = (await page.locator('#trace-body').textContent())!;
  t.notOk(['\u202E', '\u202C', '\u200B', '\u0007'].some((c) => trace.includes(c)), 'no override, zero-width or control character acts in the trace');
  t.ok(trace.includes('CV-‹U+202E›live‹U+202C›-1‹U+200B›‹U+0007›'), 'the correlation id names each of them');
  t.match(await page.locator('#trace-dead-letters li').textContent(), /receiver said ‹U\+202E› · Đã phát lại/, 'a reason does not turn what follows it around');
  t.match(await page.locator('#trace-hops pre').textContent(), /receiver said ‹U\+202E›gnp\.exe/, 'nor does a detail');
  t.equal(await page.locator('#trace-body .hidden-char').first().getAttribute('title'), 'U+202E');
});
