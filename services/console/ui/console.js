// The operator console page: plain ES modules, no build step. Everything shown is built with
// DOM calls and textContent (never innerHTML with data), so nothing from the bus can inject
// markup. The session lives in an HttpOnly cookie; state-changing calls add X-LGSP-Console.
import { TEXTS } from './i18n.js';
import { formatDuration, formatNumber } from './numbers.js';

const TIME_ZONE = 'Asia/Ho_Chi_Minh';
const state = {
  lang: localStorage.getItem('lgsp.console.lang') === 'en' ? 'en' : 'vi',
  session: null,
  tab: 'live',
  live: null,
  liveMessages: new Map(),
  lastTick: null,
  lastKpi: null,
  /** What had focus when the trace opened (and its focus key), to give focus back on closing. */
  traceOpener: null,
};

// ---------- helpers ----------
const $ = (sel) => document.querySelector(sel);
const t = (key, vars = {}) => (TEXTS[state.lang][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));

/**
 * Characters that change how the text around them is shown without being seen: bidirectional
 * overrides and isolates (U+202E shows "evil" as "live"), zero-width and other invisible marks
 * (two ids that look alike), and control characters. Agency systems choose much of what the
 * console shows (correlation ids, business statuses, details), so such a character is shown as
 * a marker naming it (‹U+202E›) instead of acting on the operator's view.
 */
const HIDDEN_CHARS = /([\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB])/;
function visibleText(s) {
  if (!HIDDEN_CHARS.test(s)) return [s];
  return s.split(HIDDEN_CHARS).filter((part) => part !== '').map((part) => {
    if (part.length !== 1 || !HIDDEN_CHARS.test(part)) return part;
    const name = `U+${part.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    const marker = document.createElement('span');
    marker.className = 'hidden-char';
    marker.title = name;
    marker.textContent = `‹${name}›`;
    return marker;
  });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(...(c instanceof Node ? [c] : visibleText(String(c))));
  return node;
}

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(state.lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: TIME_ZONE, hour12: false }) : '—');
/**
 * An event's detail as JSON, its instants (UTC, "…Z", as the bus stores them) written in Vietnam's
 * time with the offset (`2026-12-05T20:51:14.760+07:00`), so that a retry time in a detail reads
 * on the same clock as the step above it. Asia/Ho_Chi_Minh has kept UTC+7 without summer time
 * since 1975.
 */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const inVietnam = (v) => {
  if (typeof v !== 'string' || !ISO_UTC.test(v)) return v;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? v : `${new Date(ms + 7 * 3_600_000).toISOString().slice(0, v.includes('.') ? 23 : 19)}+07:00`;
};
const fmtDetail = (detail, indent) => JSON.stringify(detail, (_, v) => inVietnam(v), indent);
const fmtNum = (n) => formatNumber(n, state.lang);
const fmtPct = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toLocaleString(state.lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 })} %`);
const fmtMs = (ms) => formatDuration(ms, state.lang);
// Known statuses and events are shown translated; the raw value stays in class/data attributes.
const label = (prefix, v) => (TEXTS[state.lang][`${prefix}_${v}`] ?? v);
const badge = (s) => el('span', { class: `badge ${s ?? ''}`, title: s }, s ? label('st', s) : '—');
const isOperator = () => Boolean(state.session?.roles?.includes('operator'));
/**
 * A name from the registry (agency, system, service): Vietnamese text whatever the page's
 * language, marked so that a screen reader on the English page reads it as Vietnamese.
 */
const vietnamese = (text) => el('span', { lang: 'vi' }, text);

/**
 * Fills a table. A table with no heading above it names itself with a caption (its
 * data-caption text key) for screen readers. Redrawing a table (the live list, at each new
 * message) keeps focus on the same control when the new rows have it again (same
 * data-focus-key): a keyboard user is not thrown back to the top of the page by a tick.
 */
function table(target, headers, rows, onRow) {
  const node = typeof target === 'string' ? $(target) : target;
  const focusKey = node.contains(document.activeElement) ? document.activeElement.dataset?.focusKey : undefined;
  node.replaceChildren(
    ...(node.dataset.caption ? [el('caption', { class: 'visually-hidden' }, t(node.dataset.caption))] : []),
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col', class: h.num ? 'num' : undefined }, h.label ?? t(h.key))))),
    el('tbody', {}, rows.length === 0
      ? el('tr', {}, el('td', { colspan: headers.length, class: 'hint' }, t('noResults')))
      : rows.map((r) => {
          const tr = el('tr', { dataset: r.dataset ?? {}, class: r.class }, r.cells.map((c, i) => el('td', { class: headers[i]?.num ? 'num' : undefined }, c)));
          // A link or button in the row does its own thing (the keyboard's way in opens the trace itself).
          if (onRow) tr.addEventListener('click', (e) => { if (!e.target.closest('a, button')) onRow(r); });
          return tr;
        })),
  );
  if (focusKey) [...node.querySelectorAll('[data-focus-key]')].find((n) => n.dataset.focusKey === focusKey)?.focus();
}

/** Focus to `node` when the view that had it went away (hidden, or focus back on the page itself). */
function focusIfLost(node) {
  const active = document.activeElement;
  if (!active || active === document.body || active.closest('[hidden]')) node.focus();
}

/** A link opening a message's trace: the keyboard's (and screen reader's) way into a clickable row. */
const traceLink = (id) => el('a', { href: '#', class: 'mono', dataset: { focusKey: `trace:${id}` }, onclick: (e) => { e.preventDefault(); openTrace(id); } }, id);

/**
 * A notice at the top of the page, in one of two live regions: information (a replay done) in a
 * polite one, read when the screen reader is free; an error (a refused action, a failed request)
 * in an alert, read at once. The latest notice replaces the one shown. The same notice while it
 * is still shown is not written again: a search retried against a backend that is down would
 * otherwise interrupt the operator with the same words at each click.
 */
function notify(message, isError = false) {
  const [shown, other] = isError ? [$('#alert'), $('#notice')] : [$('#notice'), $('#alert')];
  // Only what changes is touched: every write into a live region can be announced.
  if (!other.hidden) other.hidden = true;
  if (other.textContent) other.textContent = '';
  if (shown.hidden || shown.textContent !== message) {
    shown.textContent = message;
    shown.hidden = false;
  }
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => {
    shown.hidden = true;
    shown.textContent = '';
  }, 8000);
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail ?? body?.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
  }
}

/**
 * Every call has a deadline: the console answers within its own upstream timeouts (30 s; the
 * integrity check and the KPIs 120 s), so a console that does not answer by then (hung, or a
 * proxy in front of it holding the request) is said, not waited for with the old rows on screen.
 * A console that cannot be reached, or answers with something that is not JSON (a proxy's error
 * page), is said in the operator's language rather than as the browser's words.
 */
const API_TIMEOUT_MS = 40_000;
async function api(path, { method = 'GET', body, timeoutMs = API_TIMEOUT_MS } = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-lgsp-console'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res;
  let text;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal: abort.signal });
    text = await res.text();
  } catch (err) {
    throw new ApiError(0, {
      code: 'CONSOLE_UNREACHABLE',
      detail: abort.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : err.message,
    });
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, { code: 'CONSOLE_UNREACHABLE', detail: `HTTP ${res.status}, not a console answer` });
  }
  if (res.status === 401 && path !== '/v1/console/session') {
    sessionEnded(data);
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// A known problem code in the operator's language first; the server's detail (English) after it.
const problemText = (code, detail) => {
  const known = code && TEXTS[state.lang][`err_${code}`];
  return `${known ? `${known} — ` : ''}${detail}${code ? ` (${code})` : ''}`;
};
const showError = (err) => notify(`${t('errorPrefix')}: ${problemText(err.code, err.message)}`, true);
/**
 * A load that failed (a backend down or hung) replaces what the view showed with the error, so
 * that neither stale rows nor "loading…" stay on screen once the notice has faded; rethrows for
 * the notice.
 */
function failedIn(selector, err, olderButton) {
  const node = $(selector);
  const message = `${t('errorPrefix')}: ${problemText(err.code, err.message)}`;
  if (node.tagName === 'TABLE') node.replaceChildren(el('tbody', {}, el('tr', {}, el('td', { class: 'error load-error' }, message))));
  else node.replaceChildren(el('p', { class: 'error load-error' }, message));
  if (olderButton) $(olderButton).hidden = true;
  throw err;
}
const formQuery = (form) => {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (String(v).trim() !== '') params.set(k, String(v).trim());
  return params;
};
/**
 * Search forms pick whole days in Vietnam's time: from the start of "from" to the end of "to"
 * (the APIs' `to` is exclusive, so "to" becomes the start of the next day; today → today is today).
 */
const wholeDays = (params) => {
  const nextDay = (day) => {
    const [y, m, d] = day.split('-').map(Number);
    // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999 (as the server does not).
    const next = new Date(0);
    next.setUTCFullYear(y, m - 1, d + 1);
    return next.toISOString().slice(0, 10);
  };
  const [from, to] = [params.get('from'), params.get('to')];
  if (from) params.set('from', `${from}T00:00:00+07:00`);
  // "To" a day before "from" is a reversed range: sent as that day's start, so the API refuses it
  // ("to must not be before from") as on the other pages. Its next day would have made it the
  // empty range from..from, answered "no results" with no word of the mistake.
  if (to) params.set('to', `${from && to < from ? to : nextDay(to)}T00:00:00+07:00`);
  return params;
};

// ---------- language ----------
function applyLanguage() {
  document.documentElement.lang = state.lang;
  // The switch is named in the language it switches to ("English" on the Vietnamese page).
  $('#lang').lang = state.lang === 'vi' ? 'en' : 'vi';
  document.title = t('appTitle');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  renderWho();
  rerender();
}

function rerender() {
  if (!state.session) return;
  if (state.lastTick) renderTick(state.lastTick);
  renderLiveMessages();
  if (state.lastKpi) renderKpi(state.lastKpi);
  setKpiExportLanguage();
  const active = state.tab;
  if (active !== 'live' && active !== 'kpi') loadTab(active);
}

// ---------- session ----------
function renderWho() {
  const who = $('#who');
  if (!state.session) {
    who.hidden = true;
    $('#logout').hidden = true;
    return;
  }
  who.textContent = `${t('loggedInAs')} ${state.session.clientId} (${isOperator() ? t('roleOperator') : t('roleObserver')})`;
  who.hidden = false;
  $('#logout').hidden = false;
}

function showLogin(message) {
  state.session = null;
  stopLive();
  // A bulk replay counted and offered to the operator whose session this was is not the next
  // one's to confirm (an observer would get a button that fails; another operator would replay
  // what someone else counted).
  state.bulkReplayFilter = null;
  $('#bulk-confirm').hidden = true;
  $('#app-view').hidden = true;
  showTrace(false);
  $('#login-view').hidden = false;
  const err = $('#login-error');
  err.hidden = !message;
  err.textContent = message ?? '';
  renderWho();
  focusIfLost($('#client-id'));
}

/**
 * Back to the login page after a 401. "Session expired, log in again" is said only when the
 * console says so (SESSION_ENDED: the session expired, or ended at a logout or a later login;
 * UNAUTHENTICATED: the browser no longer sends the cookie, which it drops when the session
 * expires) or gives no reason; any other refusal (the system disabled in the registry, a token
 * refused by a service behind the console) is shown with the server's own reason.
 */
const SESSION_EXPIRED_CODES = new Set(['SESSION_ENDED', 'UNAUTHENTICATED']);
function sessionEnded(problem) {
  if (!state.session) return;
  const reason = problem?.detail ?? problem?.title;
  if (typeof reason !== 'string' || !reason || SESSION_EXPIRED_CODES.has(problem.code)) showLogin(t('sessionExpired'));
  else showLogin(problemText(problem.code, reason));
}

function showApp() {
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  document.body.classList.toggle('observer', !isOperator());
  for (const b of document.querySelectorAll('.operator-only')) b.hidden = !isOperator();
  renderWho();
  selectTab(state.tab);
  focusIfLost(document.querySelector('.tabs [aria-selected="true"]'));
  api('/v1/console/registry').then(fillMemberSelect).catch(showError);
}

function fillMemberSelect(registry) {
  const select = $('#kpi-form').member;
  if (select.options.length > 1) return;
  for (const m of registry.members) select.append(el('option', { value: m.code, lang: 'vi' }, `${m.code} — ${m.name}`));
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const res = await fetch('/v1/console/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-lgsp-console': '1' },
      body: JSON.stringify({ clientId: form.clientId.value.trim(), clientSecret: form.clientSecret.value }),
    });
    const body = await res.json();
    if (!res.ok) {
      $('#login-error').textContent = problemText(body.code, body.detail ?? body.title);
      $('#login-error').hidden = false;
      return;
    }
    form.clientSecret.value = '';
    state.session = body;
    showApp();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

async function logout() {
  try {
    await api('/v1/console/session', { method: 'DELETE' });
  } catch {
    /* the cookie may already be gone */
  }
  showLogin();
}

// ---------- tabs ----------
function selectTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll('.tabs button')) {
    b.setAttribute('aria-selected', String(b.dataset.tab === name));
    b.tabIndex = b.dataset.tab === name ? 0 : -1;
  }
  for (const p of document.querySelectorAll('[data-panel]')) p.hidden = p.dataset.panel !== name;
  if (name === 'live') startLive();
  loadTab(name);
}

/** Arrows, Home and End move between the tabs and show the tab reached (the ARIA tabs pattern). */
function tabKeys(e) {
  const tabs = [...document.querySelectorAll('.tabs button')];
  const at = tabs.indexOf(e.target);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (at < 0 || to === undefined) return;
  e.preventDefault();
  const tab = tabs[(to + tabs.length) % tabs.length];
  selectTab(tab.dataset.tab);
  tab.focus();
}

function loadTab(name) {
  const loaders = {
    messages: () => searchMessages(),
    'dead-letters': () => searchDeadLetters(),
    audit: () => Promise.all([searchAudit(), loadIntegrity()]),
    connectors: () => loadConnectors(),
    registry: () => loadRegistry(),
    kpi: () => (state.lastKpi ? null : loadKpi()),
  };
  loaders[name]?.()?.catch?.(showError);
}

// ---------- live ----------
function startLive() {
  if (state.live) return;
  const source = new EventSource('/v1/console/live');
  state.live = source;
  source.addEventListener('tick', (e) => {
    const tick = JSON.parse(e.data);
    state.lastTick = tick;
    for (const m of tick.messages) state.liveMessages.set(m.id, { ...m, fresh: true });
    renderTick(tick);
    if (tick.messages.length) renderLiveMessages();
  });
  source.addEventListener('error', async () => {
    $('#live-dot').classList.remove('on');
    if ($('#live-state').textContent !== t('liveDisconnected')) $('#live-state').textContent = t('liveDisconnected');
    // A stream closed because the session ended must not retry forever. The console says why it
    // ended (`ended`: a client disabled in the registry is not an expired session).
    const s = await fetch('/v1/console/session').then((r) => r.json()).catch(() => null);
    if (s && !s.authenticated) {
      stopLive();
      sessionEnded(s.ended);
    }
  });
  api('/v1/console/overview')
    .then((o) => {
      for (const m of o.recent.reverse()) if (!state.liveMessages.has(m.id)) state.liveMessages.set(m.id, m);
      renderLiveMessages();
    })
    .catch(showError);
}

function stopLive() {
  state.live?.close();
  state.live = null;
}

function renderTick(tick) {
  // Figures counted from an index that cannot be read stand still: said, not shown as live.
  const stale = Boolean(tick.index && !tick.index.ok);
  $('#live-dot').classList.toggle('on', !stale);
  $('#live-dot').classList.toggle('stale', stale);
  $('#live-state').classList.toggle('error', stale);
  // A status region: written only when it changes, so a screen reader hears a change (stream
  // lost, index stale), not the same words every second.
  const liveText = stale ? t('liveStale', { since: fmtTime(tick.index.lastReadAt) }) : t('liveStatus');
  if ($('#live-state').textContent !== liveText) $('#live-state').textContent = liveText;
  if (stale && tick.index.detail) $('#live-state').title = tick.index.detail;
  else $('#live-state').removeAttribute('title');
  $('#rate-accepted').textContent = fmtNum(tick.rates.accepted);
  $('#rate-delivered').textContent = fmtNum(tick.rates.delivered);
  $('#rate-errors').textContent = fmtNum(tick.rates.errors);
  $('#last-minute').replaceChildren(
    ...Object.entries(tick.lastMinute).map(([k, v]) => el('span', { class: 'badge', dataset: { event: k, count: String(v) } }, `${label('ev', k)}: ${v}`)),
  );
  renderSparkline(tick.series);
  table('#live-services', [{ key: 'service' }, { key: 'perSecond', label: `${t('accepted')} ${t('perSecond')}`, num: true }, { key: 'accepted', num: true }, { key: 'delivered', num: true }, { key: 'errors', num: true }],
    tick.services.map((s) => ({ cells: [s.service, fmtNum(s.perSecond), fmtNum(s.accepted), fmtNum(s.delivered), fmtNum(s.errors)] })));
  table('#live-routes', [{ key: 'from' }, { key: 'to' }, { key: 'service' }, { key: 'perSecond', label: `${t('accepted')} ${t('perSecond')}`, num: true }, { key: 'accepted', num: true }, { key: 'delivered', num: true }, { key: 'errors', num: true }],
    tick.routes.map((r) => ({ cells: [r.fromMember, r.toMember, r.service, fmtNum(r.perSecond), fmtNum(r.accepted), fmtNum(r.delivered), fmtNum(r.errors)] })));
  table('#live-lag', [{ key: 'group' }, { key: 'lag', num: true }],
    tick.lag.map((l) => ({ dataset: { group: l.name }, cells: [`${l.name}${l.kind === 'connector' ? '' : ` (${l.kind})`}`, l.lag === null ? (l.error ?? '—') : fmtNum(l.lag)] })));
}

function renderSparkline(series) {
  const svg = $('#sparkline');
  const max = Math.max(1, ...series.accepted, ...series.delivered, ...series.errors);
  const path = (values) => values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * 300) / (values.length - 1 || 1)},${40 - (v / max) * 38}`).join(' ');
  const ns = 'http://www.w3.org/2000/svg';
  // Accepted is drawn first and wide, as a band: on a healthy bus every message is delivered in
  // the second it is accepted, the two lines coincide, and a thin blue line under the green one
  // vanished — the page showed no accepted traffic at all.
  svg.replaceChildren(
    ...[['accepted', '#1a73e8', '4', '0.45'], ['delivered', '#1e7d32', '1.5', '1'], ['errors', '#b3261e', '1.5', '1']].map(([k, color, width, opacity]) => {
      const p = document.createElementNS(ns, 'path');
      p.setAttribute('d', path(series[k]));
      p.setAttribute('fill', 'none');
      p.setAttribute('stroke', color);
      p.setAttribute('stroke-width', width);
      p.setAttribute('stroke-opacity', opacity);
      p.dataset.series = k;
      return p;
    }),
  );
}

function messageCells(m) {
  return [fmtTime(m.lastEventAt), traceLink(m.id), m.type, `${m.fromMember}`, `${m.toMember} / ${m.toService}`, badge(m.status), m.businessStatus ?? ''];
}
const MESSAGE_HEADERS = [{ key: 'time' }, { key: 'messageId' }, { key: 'type' }, { key: 'from' }, { key: 'to' }, { key: 'status' }, { key: 'businessStatus' }];

function renderLiveMessages() {
  const rows = [...state.liveMessages.values()].sort((a, b) => (a.lastEventAt < b.lastEventAt ? 1 : -1)).slice(0, 30);
  while (state.liveMessages.size > 200) state.liveMessages.delete(state.liveMessages.keys().next().value);
  table('#live-messages', MESSAGE_HEADERS, rows.map((m) => ({ dataset: { id: m.id }, class: m.fresh ? 'fresh' : undefined, cells: messageCells(m) })), (r) => openTrace(r.dataset.id));
  for (const m of state.liveMessages.values()) m.fresh = false;
}

// ---------- messages & trace ----------
/**
 * Searches answer a page at a time, newest first: the button under the table fetches the next.
 * It keeps the query of the page shown, so the older page continues that search even when the
 * form has been edited since (the search button starts a new one).
 */
function offerOlderPage(selector, nextBefore, params) {
  const older = $(selector);
  older.hidden = nextBefore === null || nextBefore === undefined;
  older.dataset.before = nextBefore ?? '';
  const query = new URLSearchParams(params);
  query.delete('before');
  older.dataset.query = query.toString();
}

/** The query of the page the older-page button continues, with its cursor. */
function olderPageQuery(selector, before) {
  const params = new URLSearchParams($(selector).dataset.query ?? '');
  params.set('before', String(before));
  return params;
}

/** `before`: the next page after that message (the search button starts again from the newest). */
async function searchMessages(event, before) {
  event?.preventDefault();
  const params = before ? olderPageQuery('#message-older', before) : wholeDays(formQuery($('#message-search')));
  const data = await api(`/v1/console/messages?${params}`).catch((err) => failedIn('#message-results', err, '#message-older'));
  offerOlderPage('#message-older', data.nextBefore, params);
  table('#message-results', MESSAGE_HEADERS, data.items.map((m) => ({ dataset: { id: m.id }, cells: messageCells(m) })), (r) => openTrace(r.dataset.id));
}

/**
 * The trace is a modal dialog: while it is open the page behind it (the header, whose buttons the
 * drawer covers, and the views beside it) is inert: no click, no focus, not read out. The live
 * regions are left out of that, so that a notice arriving meanwhile is still heard.
 */
function showTrace(open) {
  $('#trace').hidden = !open;
  for (const part of document.querySelectorAll('body > header, body > main')) part.inert = open;
}

/**
 * The trace is a dialog: opening it moves focus into it; Escape or its close button gives focus
 * back to what opened it (found again by its focus key if a live redraw replaced it).
 */
function closeTrace() {
  showTrace(false);
  const opener = state.traceOpener;
  state.traceOpener = null;
  if (!opener) return;
  const again = opener.node.isConnected ? opener.node : [...document.querySelectorAll('[data-focus-key]')].find((n) => n.dataset.focusKey === opener.key);
  again?.focus();
}

/** Tab and Shift+Tab stay in the open trace; Escape closes it. */
function traceKeys(e) {
  if ($('#trace').hidden) return;
  if (e.key === 'Escape') {
    e.preventDefault();
    closeTrace();
    return;
  }
  if (e.key !== 'Tab') return;
  const stops = [...$('#trace').querySelectorAll('a[href], button:not([disabled])')];
  const [first, last] = [stops[0], stops[stops.length - 1]];
  if (!$('#trace').contains(document.activeElement)) {
    e.preventDefault();
    first.focus();
  } else if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

async function openTrace(id) {
  const body = $('#trace-body');
  body.replaceChildren(el('p', { class: 'hint' }, t('loading')));
  if ($('#trace').hidden) {
    const active = document.activeElement;
    state.traceOpener = active && active !== document.body ? { node: active, key: active.dataset?.focusKey } : null;
  }
  showTrace(true);
  $('#trace-close').focus();
  try {
    const tr = await api(`/v1/console/messages/${encodeURIComponent(id)}`);
    const m = tr.message;
    // replaceChildren turns null into the text "null": the sections a trace lacks are left out.
    body.replaceChildren(...[
      el('dl', { class: 'facts' },
        el('dt', {}, t('messageId')), el('dd', { class: 'mono', id: 'trace-id' }, m.id),
        el('dt', {}, t('correlationId')), el('dd', { class: 'mono' }, m.correlationId),
        el('dt', {}, t('type')), el('dd', {}, m.type),
        el('dt', {}, t('from')), el('dd', {}, `${m.fromMember} (${m.fromSystem})`),
        el('dt', {}, t('to')), el('dd', {}, `${m.toMember} / ${m.toService}`),
        el('dt', {}, t('status')), el('dd', { id: 'trace-status' }, badge(m.status), m.businessStatus ? ` ${m.businessStatus}` : ''),
        el('dt', {}, t('totalTime')), el('dd', {}, tr.totalMs === null ? '—' : fmtMs(tr.totalMs).slice(1)),
      ),
      el('ol', { class: 'timeline', id: 'trace-hops' }, tr.hops.map((h) =>
        el('li', { dataset: { event: h.event } },
          el('strong', { title: h.event }, label('ev', h.event)), ' · ', el('span', {}, h.hop),
          el('div', { class: 'when' }, fmtTime(h.at), ' ', fmtMs(h.sinceAcceptedMs), h.sincePreviousMs !== null ? ` (${t('sincePrevious').toLowerCase()} ${fmtMs(h.sincePreviousMs)})` : ''),
          h.detail ? el('pre', {}, fmtDetail(h.detail, 1)) : null,
        ))),
      tr.deadLetters.length ? el('h3', {}, t('deadLetters')) : null,
      tr.deadLetters.length ? el('ul', { id: 'trace-dead-letters' }, tr.deadLetters.map((d) => el('li', {}, `${fmtTime(d.failedAt)} · ${d.connector} · ${d.reason}${d.replayedAt ? ` · ${replayedText(d)}` : ''}`))) : null,
      tr.related.length ? el('h3', {}, t('related')) : null,
      tr.related.length ? el('ul', {}, tr.related.map((r) => el('li', {}, el('a', { href: '#', onclick: (e) => { e.preventDefault(); openTrace(r.id); } }, `${r.type} · ${r.id}`), ' ', badge(r.status)))) : null,
    ].filter((section) => section !== null));
  } catch (err) {
    // Like every view's error: the operator's language first, and the code (a message id the
    // console has not seen, PostgreSQL away), not the server's English detail alone.
    body.replaceChildren(el('p', { class: 'error load-error' }, `${t('errorPrefix')}: ${problemText(err.code, err.message)}`));
  }
}

// ---------- dead letters ----------
/** "Đã phát lại <when> bởi <who>": a replayed dead letter says who replayed it, as the guide promises. */
const replayedText = (d) => `${t('replayed')} ${fmtTime(d.replayedAt)}${d.replayedBy ? ` ${t('replayedBy')} ${d.replayedBy}` : ''}`;

function dlqFilter() {
  const params = formQuery($('#dlq-search'));
  const replayed = $('#dlq-search').replayed.value;
  if (replayed === '') params.delete('replayed');
  else params.set('replayed', replayed);
  return params;
}

/** `before`: the next page after that dead letter (the search button starts again from the newest). */
async function searchDeadLetters(event, before) {
  event?.preventDefault();
  const params = before ? olderPageQuery('#dlq-older', before) : dlqFilter();
  const data = await api(`/v1/console/dead-letters?${params}`).catch((err) => failedIn('#dlq-results', err, '#dlq-older'));
  offerOlderPage('#dlq-older', data.nextBefore, params);
  $('#dlq-depth').textContent = `${t('depth')}: ${Object.entries(data.depth).map(([c, n]) => `${c} ${n}`).join(', ') || '0'}`;
  const headers = [{ key: 'failedAt' }, { key: 'connector' }, { key: 'messageId' }, { key: 'type' }, { key: 'from' }, { key: 'to' }, { key: 'reason' }, { key: 'attempts', num: true }, { key: 'signature' }, { key: 'size', num: true }, { key: 'actions' }];
  table('#dlq-results', headers, data.items.map((d) => ({
    dataset: { id: String(d.id), messageId: d.messageId ?? '' },
    cells: [
      fmtTime(d.failedAt), d.connector, d.messageId ? traceLink(d.messageId) : '—',
      d.type ?? '—', d.fromMember ?? '—', d.toMember ? `${d.toMember} / ${d.toService}` : '—', d.reason, fmtNum(d.attempts),
      d.verified ? t('signatureOk') : el('span', { class: 'error' }, d.verifyReason ?? '—'), `${fmtNum(d.sizeBytes)} B`,
      d.replayedAt
        ? el('span', { class: 'badge ok' }, replayedText(d))
        // Named with its message: a screen reader's list of buttons is not twenty "Phát lại".
        : isOperator() ? el('button', { type: 'button', class: 'replay', 'aria-label': `${t('replay')} ${d.messageId ?? `#${d.id}`}`, onclick: (e) => replayOne(d, e.target) }, t('replay')) : '',
    ],
  })));
}

async function replayOne(d, button) {
  button.disabled = true;
  try {
    const r = await api(`/v1/console/dead-letters/${d.id}/replay`, { method: 'POST' });
    notify(`${t('replayDone')} ${r.messageId}`);
    await searchDeadLetters();
    // The button is gone (the row now says "replayed"): focus stays on that row, at its message.
    const row = [...document.querySelectorAll('#dlq-results tbody tr')].find((tr) => tr.dataset.id === String(d.id));
    focusIfLost(row?.querySelector('a') ?? $('#dlq-search button[type=submit]'));
  } catch (err) {
    button.disabled = false;
    showError(err);
  }
}

async function bulkReplayAsk() {
  // Counted by the bulk replay itself (a dry run): what it would take, oldest first, and what
  // matches but can never be replayed; only dead letters not replayed yet count.
  const filter = Object.fromEntries(dlqFilter());
  delete filter.replayed;
  const r = await api('/v1/console/dead-letters/replay', { method: 'POST', body: { ...filter, max: 500, dryRun: true } });
  // Confirming replays what was counted, whatever the form says by then.
  // Nothing to replay: said so, with nothing to confirm (not "0 dead letters" and a Confirm button).
  const nothing = r.wouldReplay === 0;
  state.bulkReplayFilter = nothing ? null : filter;
  const notReplayable = r.notReplayable ? ` (${t('notReplayableCount', { n: r.notReplayable })})` : '';
  $('#bulk-count').textContent = nothing ? `${t('bulkNothing')}${notReplayable}` : `${r.wouldReplay === 1 ? t('bulkCountOne') : t('bulkCount', { n: r.wouldReplay })}${notReplayable}`;
  $('#bulk-go').hidden = nothing;
  $('#bulk-confirm').hidden = false;
  // The confirmation takes focus (read with its count); Escape or Cancel give it back.
  (nothing ? $('#bulk-cancel') : $('#bulk-go')).focus();
}

function bulkReplayCancel() {
  $('#bulk-confirm').hidden = true;
  $('#bulk-replay').focus();
}

async function bulkReplayGo() {
  $('#bulk-confirm').hidden = true;
  $('#bulk-replay').focus();
  const filter = state.bulkReplayFilter;
  if (!filter || !isOperator()) return;
  state.bulkReplayFilter = null;
  try {
    const r = await api('/v1/console/dead-letters/replay', { method: 'POST', body: { ...filter, max: 500 } });
    notify(t('bulkResult', { replayed: r.replayed.length, skipped: r.skipped.length, matched: r.matched }));
    await searchDeadLetters();
  } catch (err) {
    showError(err);
  }
}

// ---------- audit ----------
/** `before`: the next page after that chain entry (the search button starts again from the newest). */
async function searchAudit(event, before) {
  event?.preventDefault();
  // Date inputs are local days; the audit API reads a bare date as UTC, so the zone is sent.
  const params = before ? olderPageQuery('#audit-older', before) : wholeDays(formQuery($('#audit-search')));
  params.set('limit', '100');
  const data = await api(`/v1/console/audit/events?${params}`).catch((err) => failedIn('#audit-results', err, '#audit-older'));
  offerOlderPage('#audit-older', data.nextBefore, params);
  table('#audit-results', [{ label: '#', num: true }, { key: 'time' }, { key: 'auditEvent' }, { key: 'actor' }, { key: 'messageId' }, { key: 'type' }, { key: 'from' }, { key: 'to' }, { key: 'detail' }],
    data.entries.map((e) => ({
      cells: [e.seq, fmtTime(e.event.at), label('ev', e.event.event), e.event.actor, e.event.messageId ? el('span', { class: 'mono' }, e.event.messageId) : '', e.event.type ?? '',
        e.event.from?.member ?? '', e.event.to ? `${e.event.to.member} / ${e.event.to.service}` : '', e.event.detail ? el('span', { class: 'mono' }, fmtDetail(e.event.detail)) : ''],
    })));
}

async function loadIntegrity() {
  const body = $('#integrity-body');
  body.replaceChildren(el('p', { class: 'hint' }, t('loading')));
  const i = await api('/v1/console/audit/integrity', { timeoutMs: 130_000 }).catch((err) => failedIn('#integrity-body', err));
  const ok = i.verification?.ok;
  body.replaceChildren(
    el('p', {}, el('span', { class: `badge ${ok ? 'ok' : 'broken'}`, id: 'integrity-state' }, ok ? t('integrityOk') : t('integrityBroken')),
      ok ? '' : ` #${i.verification?.firstBad?.seq ?? '?'}: ${i.verification?.firstBad?.reason ?? ''}`),
    el('p', {}, `${t('chainLength')}: `, el('strong', { id: 'chain-length' }, fmtNum(i.head?.seq ?? 0))),
    el('p', { id: 'integrity-scope' }, `${t('verifiedScope')}: `, i.verification?.scope === 'since-seal' && i.verification.sealed
      ? t('scopeSinceSeal', { seq: fmtNum(i.verification.sealed.seq), at: fmtTime(i.verification.sealed.at) })
      : t('scopeFull')),
    el('p', {}, `${t('lastCheckpoint')}: `, i.lastCheckpoint ? `#${i.lastCheckpoint.seq} · ${fmtTime(i.lastCheckpoint.signedAt)} · ${t('checkpointAge')} ${fmtNum(i.checkpointAgeSeconds)} ${t('seconds')}` : '—'),
    el('p', { id: 'published-checkpoints' }, `${t('publishedCheckpoints')}: `, i.verification?.published
      ? `${fmtNum(i.verification.published.checked)} ${t('publishedChecked')}`
      : el('span', { class: 'badge broken' }, `${t('publishedNotRead')}${i.verification?.publishedUnreadable ? ` (${i.verification.publishedUnreadable})` : ''}`)),
  );
}

// ---------- connectors ----------
/** During a receiver's outage: retries parked in the runner and the systems it cannot reach. */
function retryWaiting(retry) {
  if (!retry) return [];
  const out = [];
  if (retry.parked?.records > 0) out.push(`${t('parkedRetries')} ${fmtNum(retry.parked.records)}`);
  for (const c of retry.openCircuits ?? []) out.push(`${t('unreachable')}: ${c.destination} (${fmtTime(c.since)})`);
  return out;
}

async function loadConnectors() {
  const list = await api('/v1/console/connectors').catch((err) => failedIn('#connector-table', err));
  const headers = [{ key: 'connector' }, { key: 'state' }, { key: 'lag', num: true }, { key: 'deadLetters', num: true }, { key: 'stats' }, { key: 'lastError' }, { key: 'actions' }];
  table('#connector-table', headers, list.map((c) => ({
    dataset: { connector: c.name },
    cells: [c.name, badge(c.connector?.state), fmtNum(c.lag), fmtNum(c.deadLetters),
      // Labelled in the page's language; a statistic a newer runner adds shows under its API name.
      c.stats ? [...Object.entries(c.stats).map(([k, v]) => `${label('stat', k)} ${fmtNum(v)}`), ...retryWaiting(c.retry)].join(' · ') : '—',
      // Summed over the runner replicas that answered; one that did not is named here, with why.
      [c.lastError, ...(c.unreachableRunners ?? []).map((u) => `${t('runnerUnreachable')}: ${u}${c.unreachableReasons?.[u] ? ` (${c.unreachableReasons[u]})` : ''}`)].filter(Boolean).join(' · '),
      isOperator()
        ? el('span', { class: 'actions' }, ...[['pause', 'PUT'], ['resume', 'PUT'], ['restart', 'POST']]
            // Offer what makes sense in the current state: pause a running connector, resume a
            // paused one, restart any (a failed one can only be restarted).
            .filter(([op]) => (op === 'pause' ? c.connector?.state === 'RUNNING' : op === 'resume' ? c.connector?.state === 'PAUSED' : true))
            .map(([op, method]) => el('button', { type: 'button', class: 'secondary', dataset: { op }, 'aria-label': `${t(op)} ${c.name}`, onclick: () => connectorAction(c.name, op, method) }, t(op))))
        : ''],
  })));
}

async function connectorAction(name, op, method) {
  try {
    const answer = await api(`/v1/console/connectors/${encodeURIComponent(name)}/${op}`, { method });
    // A restart is done when the runners answer, but the connector may still not start (its
    // configuration still wrong): said here, not left for the list's "lỗi" to be noticed.
    const failed = (answer?.runners ?? []).filter((r) => r.state === 'FAILED');
    if (failed.length > 0) notify(`${name}: ${t('restartedButFailed')}: ${failed.map((r) => r.lastError ?? '').filter(Boolean).join(' · ')}`, true);
    else notify(`${name}: ${t(op)} ✓`);
    await loadConnectors();
  } catch (err) {
    showError(err);
  }
}

// ---------- registry ----------
async function loadRegistry() {
  const r = await api('/v1/console/registry');
  table('#reg-members', [{ key: 'code' }, { key: 'name' }, { key: 'level' }, { key: 'parent' }], r.members.map((m) => ({ cells: [m.code, vietnamese(m.name), m.level ? label('level', m.level) : '', m.parent ?? ''] })));
  table('#reg-systems', [{ key: 'client' }, { key: 'member' }, { key: 'name' }, { key: 'roles' }, { key: 'authMethods' }, { key: 'endpoint' }],
    r.systems.map((s) => ({ cells: [s.disabled ? el('span', {}, s.clientId, ' ', el('span', { class: 'badge dead_lettered', 'data-disabled': 'true' }, t('systemDisabled'))) : s.clientId, s.member, vietnamese(s.name), s.roles.map((r) => label('role', r)).join(', '), s.authMethods.join(', '), s.endpoint ? el('span', { class: 'mono' }, s.endpoint) : ''] })));
  table('#reg-services', [{ key: 'code' }, { key: 'name' }, { key: 'provider' }, { key: 'client' }, { key: 'connector' }, { key: 'messageTypes' }],
    r.services.map((s) => ({ cells: [s.code, s.name ? vietnamese(s.name) : '', s.provider, s.system, s.connector, s.messageTypes.join(', ')] })));
  table('#reg-rights', [{ key: 'client' }, { key: 'service' }, { key: 'provider' }], r.accessRights.map((a) => ({ cells: [a.client, a.service, a.provider ?? t('any')] })));
  fillMemberSelect(r);
}

// ---------- KPIs ----------
function localDate(d) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/**
 * The CSV export is of the report shown: before one is shown (loading, or it could not be had)
 * the export has no address, is no Tab stop, and says it is unavailable, instead of a link that
 * looks as if it worked.
 */
function offerKpiExport(params) {
  const link = $('#kpi-export');
  if (params) {
    link.href = `/v1/console/kpi.csv?${params}`;
    link.removeAttribute('aria-disabled');
  } else {
    link.removeAttribute('href');
    link.setAttribute('aria-disabled', 'true');
  }
}

/** The CSV export is in the page's language: switching language changes the link, not only the page. */
function setKpiExportLanguage() {
  const link = $('#kpi-export');
  const [path, query] = (link.getAttribute('href') ?? '').split('?');
  if (query === undefined) return;
  const params = new URLSearchParams(query);
  params.set('lang', state.lang);
  link.href = `${path}?${params}`;
}

function kpiParams() {
  const params = formQuery($('#kpi-form'));
  params.set('lang', state.lang);
  return params;
}

async function loadKpi(event) {
  event?.preventDefault();
  const params = kpiParams();
  offerKpiExport(null);
  // A report that cannot be had now replaces the one shown: an earlier period's figures must not
  // stay on screen under the new dates once the notice has faded (and a first load is not left
  // blank). Showing the tab again asks again.
  state.lastKpi = null;
  state.lastKpi = await api(`/v1/console/kpi?${params}`, { timeoutMs: 130_000 }).catch((err) => failedIn('#kpi-body', err));
  renderKpi(state.lastKpi);
  offerKpiExport(params);
}

function statusBreakdown(statuses, labels) {
  const entries = Object.entries(statuses).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  if (entries.length === 0) return el('p', { class: 'hint' }, t('kpiNoTraffic'));
  return el('table', { class: 'breakdown' },
    el('tbody', {}, entries.map(([code, n]) => el('tr', {}, el('td', {}, labels[code]?.[state.lang] ?? code, ' ', el('span', { class: 'hint' }, `(${code})`)), el('td', { class: 'num' }, fmtNum(n))))));
}

function renderKpi(report) {
  const tot = report.total;
  const fig = (key, value, id) => el('div', { class: 'metric' }, el('span', {}, t(key)), el('strong', { id }, value));
  $('#kpi-body').replaceChildren(
    el('p', { class: 'hint' }, `${t('kpiPeriod')}: ${report.period.from} → ${report.period.to} (${report.period.timeZone})`),
    el('div', { class: 'kpi-grid' },
      el('div', { class: 'card', id: 'kpi-documents' },
        el('h3', {}, t('kpiDocuments')),
        el('div', { class: 'kpi-figures' },
          fig('kpiSent', fmtNum(tot.documents.sent), 'kpi-doc-sent'), fig('kpiDelivered', fmtNum(tot.documents.delivered)),
          fig('kpiFailed', fmtNum(tot.documents.failed)), fig('kpiElectronicRate', fmtPct(tot.documents.electronicRate), 'kpi-doc-rate')),
        el('h4', {}, t('kpiStatuses')), statusBreakdown(tot.documents.statuses, report.statusLabels.documents)),
      el('div', { class: 'card', id: 'kpi-dossiers' },
        el('h3', {}, t('kpiDossiers')),
        el('div', { class: 'kpi-figures' },
          fig('kpiDossierCount', fmtNum(tot.dossiers.dossiers), 'kpi-dossier-count'), fig('kpiSynced', fmtNum(tot.dossiers.synced)),
          fig('kpiSyncRate', fmtPct(tot.dossiers.syncRate)), fig('kpiOnTimeRate', fmtPct(tot.dossiers.onTimeRate), 'kpi-ontime-rate')),
        el('h4', {}, t('kpiStatuses')), statusBreakdown(tot.dossiers.statuses, report.statusLabels.dossiers))),
    el('h3', { id: 'h-kpi-agencies' }, t('kpiByAgency')),
  );
  const agencyTable = el('table', { id: 'kpi-agencies', 'aria-labelledby': 'h-kpi-agencies' });
  $('#kpi-body').append(agencyTable);
  table(agencyTable,
    [{ key: 'agency' }, { key: 'kpiSent', num: true }, { key: 'kpiDelivered', num: true }, { key: 'kpiReceived', num: true }, { key: 'kpiElectronicRate', num: true },
      { key: 'kpiDossierCount', num: true }, { key: 'kpiSynced', num: true }, { key: 'kpiOnTime', num: true }, { key: 'kpiLate', num: true }, { key: 'kpiOnTimeRate', num: true }],
    report.agencies.map((a) => ({
      cells: [[vietnamese(a.name), ` (${a.member})`], fmtNum(a.documents.sent), fmtNum(a.documents.delivered), fmtNum(a.documents.received), fmtPct(a.documents.electronicRate),
        fmtNum(a.dossiers.dossiers), fmtNum(a.dossiers.synced), fmtNum(a.dossiers.onTime), fmtNum(a.dossiers.late), fmtPct(a.dossiers.onTimeRate)],
    })));
}

// ---------- start ----------
function wire() {
  $('#lang').addEventListener('click', () => {
    state.lang = state.lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('lgsp.console.lang', state.lang);
    applyLanguage();
  });
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => selectTab(b.dataset.tab));
  $('.tabs').addEventListener('keydown', tabKeys);
  $('#message-search').addEventListener('submit', (e) => searchMessages(e).catch(showError));
  $('#dlq-search').addEventListener('submit', (e) => searchDeadLetters(e).catch(showError));
  $('#bulk-replay').addEventListener('click', () => bulkReplayAsk().catch(showError));
  $('#dlq-older').addEventListener('click', (e) => searchDeadLetters(null, e.target.dataset.before).catch(showError));
  $('#message-older').addEventListener('click', (e) => searchMessages(null, e.target.dataset.before).catch(showError));
  $('#audit-older').addEventListener('click', (e) => searchAudit(null, e.target.dataset.before).catch(showError));
  $('#bulk-go').addEventListener('click', bulkReplayGo);
  $('#bulk-cancel').addEventListener('click', bulkReplayCancel);
  $('#bulk-confirm').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') bulkReplayCancel();
  });
  $('#audit-search').addEventListener('submit', (e) => searchAudit(e).catch(showError));
  $('#integrity-check').addEventListener('click', () => loadIntegrity().catch(showError));
  $('#kpi-form').addEventListener('submit', (e) => loadKpi(e).catch(showError));
  $('#trace-close').addEventListener('click', closeTrace);
  document.addEventListener('keydown', traceKeys);
  // Default KPI period: this month so far (local dates), `to` exclusive.
  const now = new Date();
  const today = localDate(now);
  $('#kpi-form').from.value = `${today.slice(0, 8)}01`;
  $('#kpi-form').to.value = localDate(new Date(now.getTime() + 86_400_000));
}

async function start() {
  wire();
  applyLanguage();
  const s = await fetch('/v1/console/session').then((r) => r.json());
  if (s.authenticated) {
    state.session = s;
    showApp();
  } else {
    showLogin();
  }
}

start().catch(showError);
