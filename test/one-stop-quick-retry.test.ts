// The one-stop-shop connector asks the portal again at once when a call fails in transit (a
// third of calls failing at random should not cost the bus's backoff), but not when the portal
// fails every call: then each delivery attempt makes one call and the bus's backoff paces them,
// instead of a dozen calls per attempt for every parked message. And its "newest sync wins"
// memory, written by earlier versions as a message id, never holds back a newer sync.
import t from 'tap';
import { acceptanceOrder, RetryableError, PermanentError } from '@lgsp/sdk';
import { createEnvelope } from '../services/platform/envelope.js';
import { askAgain, syncDossier, QUICK_RETRY_STREAK_LIMIT, type HandlerDeps } from '../connectors/one-stop-shop/dossier-handlers.js';
import type { PortalAnswer } from '../connectors/one-stop-shop/portal-client.js';

const deps = (): HandlerDeps => ({
  client: undefined as never,
  lookupMaxAgeMs: 60_000,
  quickRetryWindowMs: 5_000,
  requestTimeoutMs: 1000,
  failureStreak: { calls: 0 },
});
const OK: PortalAnswer = { error_code: '0' } as PortalAnswer;
const signal = new AbortController().signal;

t.test('a call failing now and then is asked again until it succeeds', async (t) => {
  const d = deps();
  let calls = 0;
  const answer = await askAgain(d, signal, async () => {
    calls++;
    if (calls < 3) throw new RetryableError('portal answered HTTP 503');
    return OK;
  });
  t.equal(answer, OK);
  t.equal(calls, 3, 'two failures, then the answer');
  t.equal(d.failureStreak.calls, 0, 'a success ends the streak');
});

t.test('a portal failing every call: quick retries stop at the streak limit, then one call per attempt until one succeeds', async (t) => {
  const d = deps();
  let calls = 0;
  let up = false;
  const call = async () => {
    calls++;
    if (!up) throw new RetryableError('portal answered HTTP 503');
    return OK;
  };
  await t.rejects(askAgain(d, signal, call), RetryableError, 'the first attempt fails');
  t.equal(calls, QUICK_RETRY_STREAK_LIMIT, `asked ${QUICK_RETRY_STREAK_LIMIT} times, not for the whole window`);
  for (let attempt = 0; attempt < 5; attempt++) await t.rejects(askAgain(d, signal, call), RetryableError);
  t.equal(calls, QUICK_RETRY_STREAK_LIMIT + 5, 'the next attempts one call each');
  up = true;
  t.equal(await askAgain(d, signal, call), OK, 'the portal back: the next attempt succeeds');
  up = false;
  calls = 0;
  await t.rejects(askAgain(d, signal, call), RetryableError);
  t.equal(calls, QUICK_RETRY_STREAK_LIMIT, 'after a success, quick retries are back');
});

t.test('a permanent refusal is never asked again and does not count as a failure in transit', async (t) => {
  const d = deps();
  let calls = 0;
  await t.rejects(askAgain(d, signal, async () => {
    calls++;
    throw new PermanentError('portal answered HTTP 400');
  }), PermanentError);
  t.equal(calls, 1);
  t.equal(d.failureStreak.calls, 0);
});

t.test('a dossier whose stored newest sync is an old-style message id still takes the next sync', async (t) => {
  // Before acceptanceOrder(), the connector stored the newest sync's id; an idempotent submission's
  // id (UUIDv8) may start with any hex digit, and compared as text it would supersede every later sync.
  const values = new Map<string, unknown>([['dossier:000.00.15.H49|000.00.15.H49-260115-0009', { newestSync: 'ffffffff-ffff-8fff-bfff-ffffffffffff' }]]);
  const state = {
    get: async (key: string) => values.get(key),
    set: async (key: string, value: unknown) => void values.set(key, value),
    compareAndSet: async (key: string, expected: unknown, next: unknown) => {
      if (JSON.stringify(values.get(key)) !== JSON.stringify(expected)) return false;
      values.set(key, next);
      return true;
    },
    delete: async (key: string) => void values.delete(key),
  };
  const calls: Record<string, unknown>[] = [];
  const d: HandlerDeps = { ...deps(), client: { call: async (_endpoint: string, _agency: string, body: Record<string, unknown>) => (calls.push(body), OK) } as never };
  const message = createEnvelope({
    type: 'dossier.sync',
    from: { member: '000.00.15.H49', system: 'so-tp-motcua' },
    to: { member: '000.00.00.G22', service: 'dvcqg-dossier' },
    data: {
      dossierCode: '000.00.15.H49-260115-0009', procedureCode: '1.001234', procedureName: 'Cấp Phiếu lý lịch tư pháp', sectorCode: 'LLTP',
      applicant: { name: 'Nguyễn Văn An', kind: 'citizen', idNumber: '049090001234' }, summary: 'Đề nghị cấp Phiếu', receivedAt: '2026-01-15T08:30:00+07:00',
      dueAt: '2026-01-29T17:00:00+07:00', status: 'registered', documents: [], fees: [],
    },
  });
  const result = await syncDossier(message, { state, signal } as never, d);
  t.match(result.detail, { portalCall: 'DongBoHoSoMC', isUpdating: true }, 'sent to the portal, not superseded');
  t.equal(calls.length, 1);
  t.same(values.get('dossier:000.00.15.H49|000.00.15.H49-260115-0009'), { newestSync: acceptanceOrder(message) }, 'and the old value replaced');
});
