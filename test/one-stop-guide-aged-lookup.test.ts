// A dossier.lookup retried past the connector's lookupMaxAgeMs (through a portal outage) is not
// sent to the portal, and the message ends `delivered` — the status the README calls "the
// receiver took it". docs/one-stop-shop-guide.md §5 sent the vendor whose request timed out to
// follow it at /v1/messages/{messageId} without saying so: `delivered` read as "the portal
// answered; where is my reply?". The guide now says how such a request ends, quoting the
// connector's own words, which are checked here against what the handler returns. Unit test: no
// Kafka, no portal (the handler must not call it).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { lookupDossier, type HandlerDeps } from '../connectors/one-stop-shop/dossier-handlers.js';
import type { ConnectorContext, Envelope } from '@lgsp/sdk';

const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'one-stop-shop-guide.md'), 'utf8').replace(/\s+/g, ' ');

t.test('the guide says how a lookup that aged past lookupMaxAgeMs ends, in the connector\'s words', async (t) => {
  let portalCalls = 0;
  let replies = 0;
  const deps = {
    client: { call: async () => (portalCalls++, { error_code: '0', result: [] }) },
    lookupMaxAgeMs: 60_000,
    quickRetryWindowMs: 0,
    requestTimeoutMs: 1000,
    failureStreak: { calls: 0 },
  } as unknown as HandlerDeps;
  const ctx = { reply: async () => void replies++, signal: new AbortController().signal } as unknown as ConnectorContext<unknown>;
  const aged = {
    id: '01a245cb-761e-72b6-9fa6-ebe5ba77f0c5',
    type: 'dossier.lookup',
    time: new Date(Date.now() - 61_000).toISOString(),
    from: { member: '000.00.15.H49', system: 'so-tp-motcua' },
    to: { member: '000.00.00.G22', service: 'dvcqg-lookup' },
    data: { dossierCode: '000.00.15.H49-260115-0001' },
  } as unknown as Envelope;

  const result = await lookupDossier(aged, ctx, deps);
  t.equal(portalCalls, 0, 'the portal is not asked');
  t.equal(replies, 0, 'no reply is sent');
  const detail = result.detail as { replied: boolean; reason: string };
  t.equal(detail.replied, false);

  t.match(guide, /lookups older than the connector's `lookupMaxAgeMs` \(60 s\) are not sent to the portal/, 'the guide gives the default age');
  t.match(guide, /ends `delivered` at `\/v1\/messages\/\{messageId\}` \*\*without a reply\*\*/, 'says the request ends delivered without a reply');
  t.ok(guide.includes('`"replied": false`'), 'names replied: false');
  t.ok(guide.includes(`\`"reason": "${detail.reason}"\``), `quotes the connector's reason (${detail.reason})`);
  t.match(guide, /send the lookup again/, 'and what to do');
});
