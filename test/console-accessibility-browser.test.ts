// The operator console as an operator using a keyboard and a screen reader meets it, in real
// headless Chromium: axe-core's WCAG 2.0/2.1 A and AA rules on every view in both languages (no
// serious or critical violation), and keyboard-only use: reaching a message and opening its trace,
// the trace taking focus and giving it back on Escape, the tabs, the bulk replay's confirmation,
// a replay announced politely and the live tables announcing nothing.
import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { startAuditService } from '../services/audit/audit-service.js';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { CHROMIUM, openChromiumPage } from './helpers/chromium-page.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
// Three of axe's best-practice rules (moderate) that a screen reader user navigating by headings
// and landmarks depends on: held to as well.
const STRUCTURE_RULES = ['heading-order', 'region', 'landmark-one-main'];
const WAIT = { timeout: 20_000 };

interface Violation { id: string; impact: string | null; help: string; targets: string[] }

/**
 * axe-core's WCAG A/AA rules on the page as shown; serious and critical ones fail, with rule and
 * elements named, as do the structure rules. Every data table shown has a name (its heading or a
 * caption), which axe does not ask.
 */
async function checkView(t: Test, page: Page, view: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async ([tags, structure]) => {
    type AxeNode = { target: unknown[] };
    type AxeRun = { violations: Array<{ id: string; impact: string | null; help: string; nodes: AxeNode[] }> };
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeRun> } }).axe;
    const rules = Object.fromEntries(structure.map((id) => [id, { enabled: true }]));
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, rules, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
  }, [WCAG_TAGS, STRUCTURE_RULES]);
  const blocking = (violations as Violation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical' || STRUCTURE_RULES.includes(v.id));
  for (const v of violations) if (!blocking.includes(v)) t.comment(`${view}: ${v.id} (${v.impact}) ${v.targets.join(', ')}`);
  t.same(blocking.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(', ')}`), [], `${view}: no serious or critical WCAG 2.1 A/AA violation`);
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('table')].filter((tb) => tb.checkVisibility() && tb.querySelector('th')).filter((tb) => {
      const labelled = (tb.getAttribute('aria-labelledby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join('').trim();
      return !labelled && !tb.querySelector('caption')?.textContent?.trim() && !tb.getAttribute('aria-label');
    }).map((tb) => tb.id || tb.className));
  t.same(unnamed, [], `${view}: every table shown has a name`);
  await keyboardWalk(t, page, view);
}

/**
 * Tab from the top of the page: every control shown (in the open trace only, when it is open)
 * is reached, each with a visible focus ring. The tabs not selected are left out: arrows reach
 * them (the ARIA tabs pattern).
 */
async function keyboardWalk(t: Test, page: Page, view: string): Promise<void> {
  const total = await page.evaluate(() => {
    const trace = document.querySelector('#trace') as HTMLElement;
    const scope = trace.hidden ? document : trace;
    const controls = [...scope.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input, select, textarea, [tabindex]')]
      .filter((n) => n.checkVisibility() && n.tabIndex >= 0);
    controls.forEach((n, i) => (n.dataset.walk = String(i)));
    (document.activeElement as HTMLElement | null)?.blur();
    return controls.length;
  });
  const reached = new Set<string>();
  const noRing: string[] = [];
  // Date fields take a Tab per part (day, month, year); the walk starts where focus last was.
  for (let i = 0; i < total * 4 + 10 && reached.size < total; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement;
      const style = getComputedStyle(a);
      return { walk: a.dataset.walk ?? null, desc: `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : ''}${a.getAttribute('name') ? `[name=${a.getAttribute('name')}]` : ''}`, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 };
    });
    if (f.walk !== null) reached.add(f.walk);
    if (f.desc !== 'body' && !f.ring) noRing.push(f.desc);
  }
  const missed = await page.evaluate((seen) =>
    [...document.querySelectorAll<HTMLElement>('[data-walk]')].filter((n) => !seen.includes(n.dataset.walk!)).map((n) => `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''} "${(n.textContent ?? '').trim().slice(0, 30)}"`), [...reached]);
  await page.evaluate(() => document.querySelectorAll<HTMLElement>('[data-walk]').forEach((n) => delete n.dataset.walk));
  t.same(missed, [], `${view}: Tab reaches every control shown (${total})`);
  t.same([...new Set(noRing)], [], `${view}: each shows where focus is`);
}

/**
 * Names from the registry (agencies, systems, services) are Vietnamese text: wherever the page
 * shows one (a table cell, a select's option, the trace), the element it is in must say so
 * (`lang="vi"`), or a screen reader on the English page reads it with English pronunciation.
 * Answers how many places show a name and those that are not read as Vietnamese.
 */
async function registryNamesLanguage(page: Page): Promise<{ shown: number; notVietnamese: string[] }> {
  return page.evaluate(async () => {
    const r = await (await fetch('/v1/console/registry')).json() as Record<'members' | 'systems' | 'services', Array<{ name?: string }>>;
    const names = [...r.members, ...r.systems, ...r.services].map((x) => x.name).filter((n): n is string => typeof n === 'string' && n.trim() !== '');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let shown = 0;
    const notVietnamese: string[] = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement!;
      // An option is shown through its select (closed, the options themselves are not "visible").
      const shownNode = parent.closest('select') ?? parent;
      if (!shownNode.checkVisibility()) continue;
      const name = names.find((n) => node!.textContent!.includes(n));
      if (!name) continue;
      shown++;
      const lang = parent.closest('[lang]')?.getAttribute('lang');
      if (lang !== 'vi') notVietnamese.push(`"${name}" in ${parent.tagName.toLowerCase()}${parent.id ? `#${parent.id}` : ''} read as ${lang}`);
    }
    return { shown, notVietnamese };
  });
}

/** What has focus, as a short description the assertions can name. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    if (!a || a === document.body) return { desc: 'body', inTrace: false, rowId: null, outline: false, tab: null };
    const style = getComputedStyle(a);
    return {
      desc: `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : ''} "${(a.textContent ?? '').trim().slice(0, 40)}"`,
      inTrace: Boolean(a.closest('#trace')),
      rowId: (a.closest('tr') as HTMLElement | null)?.dataset.id ?? null,
      table: a.closest('table')?.id ?? null,
      tab: a.getAttribute('role') === 'tab' ? (a as HTMLElement).dataset.tab ?? null : null,
      outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    };
  });

/** Presses `key` until `reached` holds for the focused element (at most `max` presses); every stop must show its focus. */
async function tabUntil(t: Test, page: Page, key: 'Tab' | 'Shift+Tab', reached: (f: Awaited<ReturnType<typeof focused>>) => boolean, what: string, max = 80): Promise<void> {
  const unseen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    if (f.desc !== 'body' && !f.outline) unseen.push(f.desc);
    if (reached(f)) {
      t.same(unseen, [], `every stop on the way to ${what} shows where focus is`);
      return;
    }
  }
  t.fail(`${what} cannot be reached with ${key} (${max} presses)`);
  throw new Error(`${what} not reachable by keyboard`);
}

t.test('operator console accessibility in Chromium', { timeout: 240_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (.ci/run does)`);
  const bus = await startTestBus(t, { name: 'console-a11y' });
  const audit = await startAuditService(bus.config);
  t.teardown(() => audit.stop());
  const consoleSvc = await startConsole(bus.config, {
    upstream: { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner!.url },
    lagIntervalMs: 500,
  });
  t.teardown(() => consoleSvc.stop());
  const sender = bus.client('so-tttt-qlvb');
  const secret = bus.clients.get('lgsp-operator')!.clientSecret!;

  const delivered = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'A11Y-01', payload: { subject: 'Họp', body: 'x' } });
  bus.simulator.modes.set('so-khdt-qlvb', { mode: 'reject' });
  const dead = await sender.send({ type: 'notice.send', to: { member: '000.00.24.H49', service: 'notice' }, payload: { subject: 'Báo cáo', body: 'y' } });
  const deadId = dead.body.id as string;
  await eventually(async () => (await sender.status(deadId)).body.status === 'dead_lettered');
  await eventually(async () => (await sender.status(delivered.body.id)).body.status === 'delivered');

  const { page } = await openChromiumPage(t, { viewport: { width: 1440, height: 960 }, locale: 'vi-VN', timeoutMs: WAIT.timeout, bypassCSP: true });

  for (const lang of ['vi', 'en'] as const) {
    await t.test(`every view in ${lang === 'vi' ? 'Vietnamese' : 'English'}`, async (t) => {
      await page.goto(consoleSvc.url);
      await page.locator('#login-view').waitFor({ state: 'visible' });
      if ((await page.getAttribute('html', 'lang')) !== lang) await page.click('#lang');
      t.equal(await page.getAttribute('html', 'lang'), lang, 'the page says the language it shows');
      t.equal(await page.getAttribute('#lang', 'lang'), lang === 'vi' ? 'en' : 'vi', 'the switch, named in the other language, says which');
      await checkView(t, page, 'login');

      await page.fill('#client-id', 'lgsp-operator');
      await page.fill('#client-secret', 'wrong');
      await page.click('#login-form button[type=submit]');
      await page.locator('#login-error').waitFor({ state: 'visible' });
      await checkView(t, page, 'login refused');

      await page.fill('#client-secret', secret);
      await page.click('#login-form button[type=submit]');
      await page.locator('#app-view').waitFor({ state: 'visible' });
      await page.locator(`#live-messages tr[data-id="${delivered.body.id}"]`).waitFor();
      await page.locator('#live-services tbody tr').first().waitFor();
      await checkView(t, page, 'live flows');

      await page.locator(`#live-messages tr[data-id="${delivered.body.id}"]`).click();
      await page.locator('#trace-hops li[data-event="delivered"]').waitFor();
      await checkView(t, page, 'trace');
      // The trace shows codes (member, system, service), no names: none may be read as English.
      t.same((await registryNamesLanguage(page)).notVietnamese, [], 'trace: registry names are marked Vietnamese');
      await page.click('#trace-close');

      await page.click('.tabs [data-tab="messages"]');
      await page.locator(`#message-results tr[data-id="${deadId}"]`).waitFor();
      await checkView(t, page, 'message search');

      await page.click('.tabs [data-tab="dead-letters"]');
      await page.locator(`#dlq-results tr[data-message-id="${deadId}"] button.replay`).waitFor();
      await checkView(t, page, 'dead letters');
      await page.click('#bulk-replay');
      await page.locator('#bulk-go').waitFor({ state: 'visible' });
      await checkView(t, page, 'bulk replay confirmation');
      await page.click('#bulk-cancel');

      await page.click('.tabs [data-tab="audit"]');
      await page.locator('#integrity-state').waitFor();
      await page.locator('#audit-results tbody tr').first().waitFor();
      await checkView(t, page, 'audit');

      await page.click('.tabs [data-tab="connectors"]');
      await page.locator('#connector-table tr[data-connector="relay"] .badge.RUNNING').waitFor();
      await checkView(t, page, 'connectors');
      t.same(await page.locator('#connector-table tr[data-connector="relay"] button').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label'))),
        lang === 'vi' ? ['Tạm dừng relay', 'Khởi động lại relay'] : ['Pause relay', 'Restart relay'], 'each connector button names its connector');

      await page.click('.tabs [data-tab="registry"]');
      await page.locator('#reg-rights tbody tr').first().waitFor();
      await checkView(t, page, 'registry');
      const registryNames = await registryNamesLanguage(page);
      t.ok(registryNames.shown > 0, `registry: names shown (${registryNames.shown})`);
      t.same(registryNames.notVietnamese, [], 'registry: each agency, system and service name is marked Vietnamese');

      await page.click('.tabs [data-tab="kpi"]');
      await page.locator('#kpi-doc-sent').waitFor();
      await checkView(t, page, 'KPIs');
      const kpiNames = await registryNamesLanguage(page);
      t.ok(kpiNames.shown > 0, `KPIs: agency names shown (${kpiNames.shown})`);
      t.same(kpiNames.notVietnamese, [], 'KPIs: each agency name (the member select, the table) is marked Vietnamese');

      // An error state: the search the console cannot answer, said in the view and in the notice.
      await page.route(/\/v1\/console\/messages\?/, (route) =>
        route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Service unavailable', status: 503, code: 'STATE_UNAVAILABLE', detail: 'PostgreSQL is unreachable' }) }));
      await page.click('.tabs [data-tab="messages"]');
      await page.locator('#message-results .load-error').waitFor();
      await page.locator('#alert').waitFor({ state: 'visible' });
      await checkView(t, page, 'error');
      await page.unroute(/\/v1\/console\/messages\?/);
      await page.click('#logout');
      await page.locator('#login-view').waitFor({ state: 'visible' });
      t.equal(await page.evaluate(() => document.activeElement?.id), 'client-id', 'logged out, focus is on the client id field');
    });
  }

  /** A fresh page in Vietnamese with the operator logged in, on the live tab. */
  const loggedIn = async () => {
    await page.goto(consoleSvc.url);
    // The session of the step before may still be open: logged out first, so every step starts alike.
    await page.locator('#login-view:visible, #app-view:visible').waitFor();
    if (await page.locator('#app-view').isVisible()) await page.click('#logout');
    await page.locator('#login-view').waitFor({ state: 'visible' });
    if ((await page.getAttribute('html', 'lang')) !== 'vi') await page.click('#lang');
    await page.fill('#client-id', 'lgsp-operator');
    await page.fill('#client-secret', secret);
    await page.click('#login-form button[type=submit]');
    await page.locator('#app-view').waitFor({ state: 'visible' });
  };

  await t.test('keyboard only: log in, reach a message in the live list, open its trace, Escape gives focus back', async (t) => {
    await page.goto(consoleSvc.url);
    await page.locator('#login-view').waitFor({ state: 'visible' });
    if ((await page.getAttribute('html', 'lang')) !== 'vi') await page.click('#lang');
    await tabUntil(t, page, 'Tab', (f) => f.desc.startsWith('input#client-id'), 'the client id field');
    await page.keyboard.type('lgsp-operator');
    await page.keyboard.press('Tab');
    await page.keyboard.type(secret);
    await page.keyboard.press('Enter');
    await page.locator('#app-view').waitFor({ state: 'visible' });
    t.equal((await focused(page)).tab, 'live', 'logged in, focus is on the selected tab (not lost with the login form)');
    await page.locator(`#live-messages tr[data-id="${delivered.body.id}"]`).waitFor();

    await tabUntil(t, page, 'Tab', (f) => f.table === 'live-messages' && f.rowId === delivered.body.id, 'the message in the live list');
    const opener = await focused(page);
    // A new message redrawing the list does not take focus away.
    const another = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Thêm', body: 'z' } });
    await page.locator(`#live-messages tr[data-id="${another.body.id}"]`).waitFor();
    t.same((await focused(page)).rowId, delivered.body.id, 'focus stays on the message while the live list is redrawn');
    await page.keyboard.press('Enter');
    await page.locator('#trace-hops li[data-event="delivered"]').waitFor();
    t.equal(await page.getAttribute('#trace', 'role'), 'dialog', 'the trace is a dialog');
    const traceName = await page.evaluate(() => {
      const ids = document.querySelector('#trace')!.getAttribute('aria-labelledby') ?? '';
      return ids.split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
    });
    t.equal(traceName, 'Hành trình thông điệp', 'named by its heading');
    t.ok((await focused(page)).inTrace, 'the opened trace has focus');
    // Tab stays in the open trace (it covers the page beside it).
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      t.ok((await focused(page)).inTrace, `Tab ${i + 1} stays in the trace`);
    }
    await page.keyboard.press('Escape');
    await page.locator('#trace').waitFor({ state: 'hidden' });
    const back = await focused(page);
    t.equal(back.desc, opener.desc, 'Escape closes it and gives focus back to the message');
    t.equal(back.rowId, delivered.body.id);
  });

  await t.test('live updates: the tables are not read out, nothing is announced while the figures tick', async (t) => {
    await loggedIn();
    await page.locator('#live-services tbody tr').first().waitFor();
    const sending = (async () => {
      for (let i = 0; i < 3; i++) {
        await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: `Tick ${i}`, body: 'x' } });
        await new Promise((r) => setTimeout(r, 700));
      }
    })();
    const seen = await page.evaluate(async () => {
      const live = [...document.querySelectorAll('[aria-live], [role="status"], [role="alert"], [role="log"]')].filter((r) => r.getAttribute('aria-live') !== 'off');
      let changes = 0;
      const observer = new MutationObserver((records) => (changes += records.length));
      for (const r of live) observer.observe(r, { childList: true, characterData: true, subtree: true });
      await new Promise((r) => setTimeout(r, 3_000));
      observer.disconnect();
      return { changes, live: live.map((r) => r.id), tablesInLiveRegion: [...document.querySelectorAll('#tab-live table')].filter((tb) => tb.closest('[aria-live]:not([aria-live="off"])')).length };
    });
    await sending;
    t.ok(seen.live.includes('live-state'), 'the stream\'s state is a status region');
    t.equal(seen.tablesInLiveRegion, 0, 'the live tables are not read out at each tick');
    t.equal(seen.changes, 0, `no live region changes while the figures tick (${seen.live.join(', ')})`);
  });

  await t.test('keyboard only: the tabs are one stop, arrows move between them', async (t) => {
    await loggedIn();
    t.same(await page.locator('.tabs [role="tab"]').evaluateAll((tabs) => tabs.map((b) => (b as HTMLElement).tabIndex)), [0, -1, -1, -1, -1, -1, -1], 'only the selected tab is a Tab stop');
    await page.locator('#live-messages tbody tr').first().waitFor();
    await tabUntil(t, page, 'Shift+Tab', (f) => f.tab !== null, 'the tab list');
    t.equal((await focused(page)).tab, 'live');
    await page.keyboard.press('ArrowRight');
    t.equal((await focused(page)).tab, 'messages', 'ArrowRight moves to the next tab');
    await page.locator('#tab-messages').waitFor({ state: 'visible' });
    await page.keyboard.press('End');
    t.equal((await focused(page)).tab, 'kpi', 'End to the last');
    await page.keyboard.press('ArrowRight');
    t.equal((await focused(page)).tab, 'live', 'and round to the first');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    t.equal((await focused(page)).tab, 'dead-letters');
    await page.locator('#tab-dead-letters').waitFor({ state: 'visible' });
    t.equal(await page.getAttribute('#tab-dead-letters', 'role'), 'tabpanel');
    t.equal(await page.getAttribute('.tabs [data-tab="dead-letters"]', 'aria-controls'), 'tab-dead-letters', 'the tab names its panel');
  });

  await t.test('keyboard only: bulk replay\'s confirmation takes focus, Escape cancels and gives it back', async (t) => {
    await loggedIn();
    await page.click('.tabs [data-tab="dead-letters"]');
    await page.locator(`#dlq-results tr[data-message-id="${deadId}"]`).waitFor();
    await tabUntil(t, page, 'Tab', (f) => f.desc.startsWith('button#bulk-replay'), 'the bulk replay button');
    await page.keyboard.press('Enter');
    await page.locator('#bulk-go').waitFor({ state: 'visible' });
    t.match((await focused(page)).desc, /^button#bulk-go/, 'the confirmation takes focus');
    t.equal(await page.getAttribute('#bulk-confirm', 'aria-labelledby'), 'bulk-count', 'read with its count');
    await page.keyboard.press('Escape');
    await page.locator('#bulk-confirm').waitFor({ state: 'hidden' });
    t.match((await focused(page)).desc, /^button#bulk-replay/, 'Escape cancels and gives focus back');
  });

  await t.test('keyboard only: a dead letter\'s trace and its replay, announced politely', async (t) => {
    await loggedIn();
    await page.click('.tabs [data-tab="dead-letters"]');
    await page.locator(`#dlq-results tr[data-message-id="${deadId}"]`).waitFor();
    await tabUntil(t, page, 'Tab', (f) => f.table === 'dlq-results' && f.desc.startsWith('a'), 'the dead letter\'s message');
    await page.keyboard.press('Enter');
    await page.locator('#trace-hops li[data-event="dead_lettered"]').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#trace').waitFor({ state: 'hidden' });
    t.equal((await focused(page)).table, 'dlq-results', 'focus back on the dead letter');
    bus.simulator.modes.set('so-khdt-qlvb', { mode: 'ok' });
    await tabUntil(t, page, 'Tab', (f) => f.desc.startsWith('button') && f.table === 'dlq-results', 'the replay button');
    const replayName = await page.evaluate(() => document.activeElement!.getAttribute('aria-label') ?? document.activeElement!.textContent);
    t.match(replayName, new RegExp(`^Phát lại .*${deadId}`), 'each replay button names its message');
    await page.keyboard.press('Enter');
    const announced = page.locator('[aria-live="polite"]', { hasText: deadId });
    await announced.waitFor({ state: 'visible' });
    t.match(await announced.textContent(), /Đã phát lại thông điệp/, 'the replay is said in a polite live region');
    t.not((await focused(page)).desc, 'body', 'focus is not lost when the replayed row changes');
  });

  /**
   * The live regions showing `text` now, each with how it is announced: role="alert" and
   * aria-live="assertive" interrupt, role="status" and aria-live="polite" wait.
   */
  const announcedAs = (text: string) =>
    page.evaluate((text) => [...document.querySelectorAll<HTMLElement>('[aria-live], [role="status"], [role="alert"], [role="log"]')]
      .filter((r) => r.innerText.includes(text))
      .map((r) => r.getAttribute('aria-live') ?? (r.getAttribute('role') === 'alert' ? 'assertive' : 'polite')), text);
  const problem = (status: number, code: string, detail: string) =>
    ({ status, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Refused', status, code, detail }) });

  await t.test('errors are announced assertively, information politely, and the same error once', async (t) => {
    await loggedIn();
    // A failed request: the message search the console cannot answer.
    await page.route(/\/v1\/console\/messages\?/, (route) => route.fulfill(problem(503, 'STATE_UNAVAILABLE', 'PostgreSQL is unreachable')));
    await page.click('.tabs [data-tab="messages"]');
    await page.locator('#message-results .load-error').waitFor();
    await eventually(async () => (await announcedAs('STATE_UNAVAILABLE')).length > 0);
    t.same(await announcedAs('STATE_UNAVAILABLE'), ['assertive'], 'a failed request is announced assertively, and only so');
    // The operator searches again, and again: the same error is not announced each time.
    await page.evaluate(() => {
      const w = window as unknown as { liveChanges: number };
      w.liveChanges = 0;
      const observer = new MutationObserver((records) => (w.liveChanges += records.length));
      for (const r of document.querySelectorAll('[aria-live], [role="status"], [role="alert"], [role="log"]')) observer.observe(r, { childList: true, characterData: true, subtree: true, attributes: true });
    });
    for (let i = 0; i < 2; i++) {
      await Promise.all([page.waitForResponse(/\/v1\/console\/messages\?/), page.click('#message-search button[type=submit]')]);
      await page.locator('#message-results .load-error').waitFor();
    }
    await new Promise((r) => setTimeout(r, 300));
    t.equal(await page.evaluate(() => (window as unknown as { liveChanges: number }).liveChanges), 0, 'the same error again is not announced again');
    await page.unroute(/\/v1\/console\/messages\?/);

    // A refused action: pausing a connector the runners refuse.
    await page.route(/\/v1\/console\/connectors\/relay\/pause$/, (route) => route.fulfill(problem(409, 'CONNECTOR_STATE', 'relay cannot be paused now')));
    await page.click('.tabs [data-tab="connectors"]');
    await page.locator('#connector-table tr[data-connector="relay"] button[data-op="pause"]').click();
    await eventually(async () => (await announcedAs('relay cannot be paused now')).length > 0);
    t.same(await announcedAs('relay cannot be paused now'), ['assertive'], 'a refused action is announced assertively');
    await page.unroute(/\/v1\/console\/connectors\/relay\/pause$/);

    // Information after it: polite, and the error it follows is no longer shown.
    await page.route(/\/v1\/console\/connectors\/relay\/pause$/, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"runners":[]}' }));
    await page.locator('#connector-table tr[data-connector="relay"] button[data-op="pause"]').click();
    await eventually(async () => (await announcedAs('relay: Tạm dừng ✓')).length > 0);
    t.same(await announcedAs('relay: Tạm dừng ✓'), ['polite'], 'information is announced politely');
    t.same(await announcedAs('relay cannot be paused now'), [], 'the error before it is gone');
    await page.unroute(/\/v1\/console\/connectors\/relay\/pause$/);
  });

  await t.test('the KPI export is not a link until there is a report to export', async (t) => {
    /** The export as a keyboard and a screen reader meet it. */
    const exportLink = () => page.locator('#kpi-export').evaluate((a) => {
      (a as HTMLElement).focus();
      return { href: a.getAttribute('href'), ariaDisabled: a.getAttribute('aria-disabled'), focusable: document.activeElement === a, shown: (a as HTMLElement).checkVisibility() };
    });
    await loggedIn();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    await page.route(/\/v1\/console\/kpi\?/, async (route) => {
      await held;
      await route.fulfill(problem(503, 'STATE_UNAVAILABLE', 'PostgreSQL is unreachable'));
    });
    await Promise.all([page.waitForRequest(/\/v1\/console\/kpi\?/), page.click('.tabs [data-tab="kpi"]')]);
    const loading = await exportLink();
    t.equal(loading.href, null, 'while the report loads: no address to follow');
    t.ok(loading.ariaDisabled === 'true' || !loading.shown, 'and said to be unavailable (or not shown)');
    t.notOk(loading.focusable, 'and not a Tab stop');
    release();
    await page.locator('#kpi-body .load-error').waitFor();
    const failed = await exportLink();
    t.equal(failed.href, null, 'a report that could not be had: nothing to export');
    t.ok(failed.ariaDisabled === 'true' || !failed.shown);
    t.notOk(failed.focusable);
    await page.unroute(/\/v1\/console\/kpi\?/);

    await page.click('#kpi-form button[type=submit]');
    await page.locator('#kpi-doc-sent').waitFor();
    const ready = await exportLink();
    t.match(ready.href, /^\/v1\/console\/kpi\.csv\?.*lang=vi/, 'a report shown: the export is a link to its CSV');
    t.equal(ready.ariaDisabled, null, 'not said to be unavailable');
    t.ok(ready.focusable && ready.shown, 'and a Tab stop');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#kpi-export')]);
    t.match(download.suggestedFilename(), /\.csv$/, 'that downloads the report');
  });

  await t.test('the open trace leaves nothing behind it reachable: the page is inert until it closes', async (t) => {
    await loggedIn();
    await page.locator(`#live-messages tr[data-id="${delivered.body.id}"]`).click();
    await page.locator('#trace-hops li[data-event="delivered"]').waitFor();
    const reachable = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]')]
        .filter((n) => !n.closest('#trace') && n.checkVisibility() && !n.closest('[inert]'))
        .map((n) => `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''} "${(n.textContent ?? '').trim().slice(0, 30)}"`));
    t.same(reachable, [], 'every control behind the open trace is inert');
    // What Chromium gives a screen reader: of the controls, only the trace's.
    const cdp = await page.context().newCDPSession(page);
    const { nodes } = await cdp.send('Accessibility.getFullAXTree') as { nodes: Array<{ ignored: boolean; role?: { value: string }; name?: { value: string } }> };
    await cdp.detach();
    const exposed = nodes.filter((n) => !n.ignored && ['button', 'link', 'tab', 'textbox', 'combobox'].includes(String(n.role?.value))).map((n) => `${n.role!.value} "${n.name?.value ?? ''}"`);
    const inTrace = await page.locator('#trace').evaluate((tr) => [...tr.querySelectorAll<HTMLElement>('a[href], button')].map((n) => `${n.tagName === 'A' ? 'link' : 'button'} "${(n.textContent ?? '').trim()}"`));
    t.same(exposed, inTrace, 'a screen reader is given the trace\'s controls only');
    // The header's buttons are under the drawer; the tabs are beside it, in sight.
    const under = await page.evaluate(() => ['#logout', '#lang', '#tabbtn-messages'].map((sel) => {
      const r = document.querySelector(sel)!.getBoundingClientRect();
      return `${sel} ${document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)?.closest('#trace') ? 'under the trace' : 'beside it'}`;
    }));
    t.comment(under.join(', '));
    t.ok(await page.evaluate(() => {
      (document.querySelector('#tabbtn-messages') as HTMLElement).focus();
      return Boolean(document.activeElement?.closest('#trace'));
    }), 'focus cannot be put on a tab beside it');
    const tab = (await page.locator('#tabbtn-messages').boundingBox())!;
    await page.mouse.click(tab.x + tab.width / 2, tab.y + tab.height / 2);
    await new Promise((r) => setTimeout(r, 300));
    t.equal(await page.getAttribute('#tabbtn-messages', 'aria-selected'), 'false', 'a click on a tab beside it does nothing');
    t.ok(await page.locator('#trace').isVisible(), 'and the trace stays open');

    await page.click('#trace-close');
    await page.locator('#trace').waitFor({ state: 'hidden' });
    t.equal(await page.locator('[inert]').count(), 0, 'closed: nothing is inert any more');
    await page.click('#tabbtn-messages');
    t.equal(await page.getAttribute('#tabbtn-messages', 'aria-selected'), 'true', 'and the tabs work again');
  });
});
