// docs/one-stop-shop-guide.md §7 told operators that the portal answers metric's `outcome` label
// is "HTTP status or error_code", and the runner exports `code_0`, `http_503`, `network_error`:
// an alert written from the guide (`outcome="503"`, `outcome!="0"`) matched nothing, or
// everything. The portal client is driven here against a local portal stand-in for each kind of
// answer, and every `call` and `outcome` it counts must be a form the guide names. Unit test: no
// Kafka.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { PortalClient } from '../connectors/one-stop-shop/portal-client.js';
import type { ConnectorMetrics } from '@lgsp/sdk';

const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'one-stop-shop-guide.md'), 'utf8');

/** The label values the client counted on portal_answers_total (its other counters aside). */
function recordingMetrics(seen: Record<string, string>[]): ConnectorMetrics {
  return {
    counter: (name: string) => ({ inc: (labels?: Record<string, string>) => void (name === 'portal_answers_total' && seen.push({ ...(labels ?? {}) })) }),
    histogram: () => ({ observe: () => undefined, startTimer: () => () => undefined }),
  } as unknown as ConnectorMetrics;
}

t.test('every portal answers outcome the runner counts is a form the guide names', async (t) => {
  // Login succeeds; TraCuuHoSo answers a business error, then HTTP 503 without one.
  let shares = 0;
  const portal: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      if (req.url === '/api/auth/login') return res.end(JSON.stringify({ error_code: '0', session: 's1' }));
      shares++;
      if (shares === 1) return res.end(JSON.stringify({ error_code: '6', message: 'not found' }));
      res.writeHead(503, { 'retry-after': '1' }).end('down');
    });
  });
  await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => portal.close(() => resolve())));
  const url = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;

  const seen: Record<string, string>[] = [];
  const endpoints = { portalUrl: url, loginPath: '/api/auth/login', integrationPath: '/api/integration', sharePath: '/api/share', username: 'u', requestTimeoutMs: 2000 };
  const client = new PortalClient(endpoints, () => 'p', recordingMetrics(seen));
  const signal = new AbortController().signal;
  await client.call('share', '000.00.15.H49', { service: 'TraCuuHoSo', mahoso: 'X' }, signal);
  await t.rejects(client.call('share', '000.00.15.H49', { service: 'TraCuuHoSo', mahoso: 'X' }, signal), 'a 503 is an error');
  // Nothing listens there any more: no answer at all.
  const closed = new PortalClient({ ...endpoints, portalUrl: 'http://127.0.0.1:9' }, () => 'p', recordingMetrics(seen));
  await t.rejects(closed.call('share', '000.00.15.H49', { service: 'TraCuuHoSo', mahoso: 'X' }, signal), 'a refused connection is an error');

  const outcomes = [...new Set(seen.map((l) => l.outcome))].sort();
  t.same(outcomes, ['code_0', 'code_6', 'http_503', 'network_error'], 'the outcomes counted');
  const documented: Record<string, RegExp> = { code: /`code_<error_code>`/, http: /`http_<status>`/, network_error: /`network_error`/ };
  for (const outcome of outcomes) {
    const form = outcome.startsWith('code_') ? 'code' : outcome.startsWith('http_') ? 'http' : outcome;
    t.match(guide, documented[form] ?? /$^/, `the guide names the form of ${outcome}`);
  }
  t.match(guide, /`code_0` success/, 'and says which one is success');
  for (const call of new Set(seen.map((l) => l.call))) t.match(guide, new RegExp(`\`call\` is [^.]*\`${call}\``), `the guide lists call ${call}`);
  t.notMatch(guide, /answers_total\{call,outcome\}` \(HTTP status or/, 'no longer "HTTP status or error_code"');
});
