// A receiver chooses part of a dead letter's reason (the reporting system's refusal code, kept up
// to 1,000 characters) and agency systems choose statuses and details: one long unbroken word in a
// table cell widened the dead letters' table to many screens (the replay button out of sight), and
// in the trace it ran past the drawer. Such text now wraps. Real Chromium (Debian's) on the
// console's own page files; the API is stubbed, as only the page's drawing is under test.
import t from 'tap';
import Fastify from 'fastify';
import type { Route } from 'playwright-core';
import { openChromiumPage } from './helpers/chromium-page.js';
import { webUiRoutes } from '../services/console/routes/web-ui.js';

const at = '2026-12-06T09:00:00.000Z';
const REASON = `the reporting system refused the report: ${'X'.repeat(958)}`;
const row = { id: 'm-1', lastEventAt: at, type: 'report.submit', fromMember: '000.00.12.H49', toMember: '000.00.00.H49', toService: 'periodic-report', status: 'dead_lettered', businessStatus: 'B'.repeat(64) };

t.test('long unbroken text wraps instead of widening the page', { timeout: 90_000 }, async (t) => {
  const app = Fastify();
  await app.register(webUiRoutes);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const { page } = await openChromiumPage(t, { viewport: { width: 1440, height: 960 } });
  const json = (route: Route, body: unknown) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route('**/v1/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/v1/console/session') return json(route, { authenticated: true, clientId: 'lgsp-operator', member: '000.00.12.H49', roles: ['operator'] });
    if (path === '/v1/console/registry') return json(route, { members: [], systems: [], services: [], accessRights: [] });
    if (path === '/v1/console/live') return route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'retry: 600000\n\n' });
    if (path === '/v1/console/dead-letters') {
      return json(route, {
        items: [{ id: 1, failedAt: at, connector: 'periodic-report', messageId: 'm-1', type: row.type, fromMember: row.fromMember, toMember: row.toMember, toService: row.toService, reason: REASON, attempts: 1, verified: true, sizeBytes: 1215, replayedAt: null }],
        depth: { 'periodic-report': 1 },
        nextBefore: null,
      });
    }
    if (path === '/v1/console/messages/m-1') {
      return json(route, {
        message: { ...row, correlationId: 'BC-2026-12', fromSystem: 'so-tttt-qlvb' },
        totalMs: 5,
        hops: [{ event: 'dead_lettered', hop: 'runner/periodic-report', at, sinceAcceptedMs: 5, sincePreviousMs: null, detail: { reason: REASON } }],
        deadLetters: [{ failedAt: at, connector: 'periodic-report', reason: REASON, replayedAt: null }],
        related: [],
      });
    }
    return json(route, {});
  });
  const viewport = page.viewportSize()!.width;

  await page.goto(url);
  await page.locator('#app-view').waitFor({ state: 'visible' });
  await page.click('.tabs button[data-tab="dead-letters"]');
  const replay = page.locator('#dlq-results tr[data-id="1"] button.replay');
  await replay.waitFor();
  t.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= viewport, 'the dead letters fit the window');
  const box = (await replay.boundingBox())!;
  t.ok(box.x + box.width <= viewport, `the replay button is in sight (right edge at ${box.x + box.width} px)`);
  t.equal(await page.locator('#dlq-results tr[data-id="1"] td.num').first().textContent(), '1', 'figures are still whole');

  await page.locator('#dlq-results tr[data-id="1"] a').click();
  await page.locator('#trace-hops li').waitFor();
  const drawer = await page.locator('#trace').evaluate((d) => ({ scroll: d.scrollWidth, client: d.clientWidth }));
  t.ok(drawer.scroll <= drawer.client, `the trace fits its drawer (${drawer.scroll} ≤ ${drawer.client} px)`);
  t.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= viewport, 'and the page its window');
});
