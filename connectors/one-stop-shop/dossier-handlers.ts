// What the one-stop-shop connector does with each dossier message. The runtime retries what
// these throw as RetryableError (through lgsp.retry.one-stop-shop, honouring the portal's
// Retry-After) and dead-letters PermanentError, so the handlers only decide which is which and
// keep the portal free of duplicates:
// - dossier.sync asks the portal whether it already holds the dossier (TraCuuHoSo) unless the
//   connector has seen it there, and sends DongBoHoSoMC with isUpdating accordingly, so a retry
//   after a lost answer updates instead of creating a second dossier; a sync retried after a
//   newer sync of the same dossier went through is superseded, not sent (retries leave the
//   original order, and older data must not overwrite newer). What the connector has seen lives
//   in ctx.state (one key per dossier), so every runner replica applies the same guard;
// - dossier.progress relies on the portal acknowledging a repeated identical update, and waits
//   (WaitForEarlierMessage: retried as soon as another message of the dossier is delivered)
//   while an earlier message of the same dossier is still on its way; a step to a status the
//   dossier can come back to asks the portal first whether it is already there from an earlier
//   pass (the portal would acknowledge it without recording it);
// - dossier.lookup answers through ctx.reply();
// - dossier.submitted (portal → province) is a signed delivery to the agency's system.
import { acceptanceOrder, isRetryable, PermanentError, RetryableError, WaitForEarlierMessage, type ConnectorContext, type ConnectorState, type Envelope, type HandleResult } from '@lgsp/sdk';
import {
  MappingError,
  fromPortalLookup,
  toPortalDossier,
  toPortalProgress,
  statusToPortal,
  portalStatusText,
  canReachStatus,
  REENTERABLE_STATUSES,
  type DossierProgress,
  type DossierSync,
  type PortalDossier,
  type PortalLookupRecord,
} from './portal-mapping.js';
import { PORTAL_OK, portalRefusal, type PortalAnswer, type PortalClient } from './portal-client.js';

export interface HandlerDeps {
  client: PortalClient;
  lookupMaxAgeMs: number;
  quickRetryWindowMs: number;
  requestTimeoutMs: number;
  /** Portal calls that failed in transit one after another, across every message (askAgain). */
  failureStreak: { calls: number };
}

/**
 * After this many portal calls in a row failed in transit, the portal is failing everything
 * rather than some calls: askAgain stops asking again (one call per delivery attempt, the bus's
 * backoff between attempts) until a call succeeds. With a third of calls failing at random, eight
 * failures in a row happen about once in 15,000 calls.
 */
export const QUICK_RETRY_STREAK_LIMIT = 8;

const ILLEGAL_TRANSITION = '5';
const NOT_FOUND = '6';

function mapped<T>(what: string, map: () => T): T {
  try {
    return map();
  } catch (err) {
    if (err instanceof MappingError) throw new PermanentError(`${what}: ${err.message}`);
    throw err;
  }
}

/**
 * ctx.state value of a dossier the portal is known to hold: the acceptanceOrder() of the newest
 * dossier.sync applied to it ('' when none was, e.g. only progress went through). Not its id:
 * ids of messages sent with an Idempotency-Key do not sort by time. A value written before
 * this was a message id (no "|"), which says nothing about time: newestOrder() reads it as older
 * than any sync, so the next sync is sent and replaces it, never wrongly superseded.
 */
interface KnownDossier {
  newestSync: string;
}

/** The stored acceptance order of the newest applied sync; '' when none (or only an old-style id) is known. */
function newestOrder(known: KnownDossier | undefined): string | undefined {
  if (!known) return undefined;
  return known.newestSync.includes('|') ? known.newestSync : '';
}

const knownKey = (agency: string, code: string) => `dossier:${agency}|${code}`;

/** Records that the portal holds the dossier and, with `syncOrder`, that this sync was applied; newest wins. */
async function remember(state: ConnectorState, key: string, syncOrder?: string): Promise<void> {
  // Compare-and-set until it sticks: a replica handling a retried sync of the same dossier at
  // the same moment must not replace a newer sync with an older one.
  for (;;) {
    const current = await state.get<KnownDossier>(key);
    if (current && (!syncOrder || newestOrder(current)! >= syncOrder)) return;
    if (await state.compareAndSet(key, current, { newestSync: syncOrder ?? '' })) return;
  }
}

/**
 * A portal call that is safe to repeat (a lookup, an update, a progress report the portal
 * acknowledges again) and failed in transit (HTTP 5xx, a lost answer, a refused re-login) is
 * simply asked again, within quickRetryWindowMs, instead of failing the whole delivery attempt:
 * a dossier.sync takes two or three calls, and with a portal failing a third of them, attempts
 * would mostly fail and wait out the bus's backoff. A Retry-After hands over to the bus at once,
 * and so does a portal failing every call (QUICK_RETRY_STREAK_LIMIT).
 */
export async function askAgain(deps: HandlerDeps, signal: AbortSignal, call: () => Promise<PortalAnswer>): Promise<PortalAnswer> {
  const until = Date.now() + deps.quickRetryWindowMs;
  for (let round = 1; ; round++) {
    try {
      const answer = await call();
      deps.failureStreak.calls = 0;
      return answer;
    } catch (err) {
      if (isRetryable(err)) deps.failureStreak.calls++;
      const pause = 25 * round;
      // A portal that fails every call is not asked again and again for each message (a dozen
      // calls per attempt, times every parked message, was a retry storm against it).
      const portalFailing = deps.failureStreak.calls >= QUICK_RETRY_STREAK_LIMIT;
      const again = !signal.aborted && !portalFailing && isRetryable(err) && (err as RetryableError).retryAfterMs === undefined && Date.now() + pause < until;
      if (!again) throw err;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

async function portalRecord(deps: HandlerDeps, agency: string, code: string, signal: AbortSignal): Promise<PortalLookupRecord | null> {
  const answer = await askAgain(deps, signal, () => deps.client.call('share', agency, { service: 'TraCuuHoSo', mahoso: code }, signal));
  if (answer.error_code !== PORTAL_OK) throw portalRefusal(`TraCuuHoSo ${code}`, answer);
  return ((answer.result as PortalLookupRecord[] | undefined) ?? [])[0] ?? null;
}

export async function syncDossier(message: Envelope, ctx: ConnectorContext<unknown>, deps: HandlerDeps): Promise<HandleResult> {
  const dossier = message.data as DossierSync;
  const agency = message.from.member;
  const code = dossier.dossierCode;
  const key = knownKey(agency, code);
  const order = acceptanceOrder(message);
  const newest = newestOrder(await ctx.state.get<KnownDossier>(key));
  if (newest && newest > order) {
    // A newer sync of this dossier is already at the portal (this one was retried after it):
    // sending the older data now would overwrite the newer.
    return { detail: { portalCall: 'none', dossierCode: code, superseded: true } };
  }
  let item: PortalDossier = mapped(`dossier ${code}`, () => toPortalDossier(dossier));
  const looked = newest === undefined ? await portalRecord(deps, agency, code, ctx.signal) : undefined;
  const exists = newest !== undefined || looked !== null;
  // An update may be asked again at once; a creation may not: its answer may have been lost
  // after the portal created the dossier, and only the next attempt's lookup can tell.
  const send = (data: PortalDossier) => {
    const call = () => deps.client.call('integration', agency, { service: 'DongBoHoSoMC', isUpdating: exists ? 'True' : 'False', data: [data] }, ctx.signal);
    return exists ? askAgain(deps, ctx.signal, call) : call();
  };
  let keptStatus: string | undefined;
  const keepPortalStatus = (current: PortalLookupRecord) => {
    keptStatus = current.TrangThaiHoSo;
    item = { ...item, TrangThaiHoSo: current.TrangThaiHoSo, ...(current.NgayTra ? { NgayTra: current.NgayTra } : {}) };
  };
  if (exists && ctx.attempt > 1) {
    // A retried update may have been overtaken by a later status change, and the portal takes
    // this sync's older status again where the lifecycle goes back to it (supplement_requested →
    // processing): a data update would send the dossier back. Where the portal is is asked first.
    const current = looked ?? (await portalRecord(deps, agency, code, ctx.signal));
    if (current && current.TrangThaiHoSo !== item.TrangThaiHoSo && current.QuaTrinhXuLy?.some((h) => h.TrangThai === item.TrangThaiHoSo)) keepPortalStatus(current);
  }
  let answer = await send(item);
  if (answer.error_code === ILLEGAL_TRANSITION && exists) {
    // The portal may already be past this sync's status: a later dossier.progress overtook a
    // retried sync. Then the sync still updates the dossier's data but keeps the portal's status.
    const current = await portalRecord(deps, agency, code, ctx.signal);
    const seen = current?.QuaTrinhXuLy?.some((h) => h.TrangThai === item.TrangThaiHoSo);
    if (current && seen) {
      keepPortalStatus(current);
      answer = await send(item);
    } else if (current) {
      throw new WaitForEarlierMessage(`DongBoHoSoMC ${code}: the portal holds ${portalStatusText(current.TrangThaiHoSo)}; waiting for the dossier's earlier updates`);
    }
  }
  if (answer.error_code === ILLEGAL_TRANSITION && !exists) {
    // The portal creates dossiers only at an initial status: this later sync overtook the one
    // that creates the dossier (still being retried).
    throw new WaitForEarlierMessage(`DongBoHoSoMC ${code}: the portal does not hold the dossier yet and cannot create it at ${portalStatusText(item.TrangThaiHoSo)}; waiting for the dossier's earlier updates (the sync that creates it)`);
  }
  if (answer.error_code === NOT_FOUND && exists) {
    // Remembered as present, but the portal no longer has it: check again on the next attempt.
    await ctx.state.delete(key);
    throw new RetryableError(`DongBoHoSoMC ${code}: the portal no longer holds the dossier; it will be created again`);
  }
  if (answer.error_code !== PORTAL_OK) throw portalRefusal(`DongBoHoSoMC ${code}`, answer);
  await remember(ctx.state, key, order);
  // Status and dates on the `delivered` event feed the operators' KPIs (on-time rate).
  return {
    detail: {
      portalCall: 'DongBoHoSoMC',
      dossierCode: code,
      isUpdating: exists,
      status: dossier.status,
      ...(dossier.dueAt ? { dueAt: dossier.dueAt } : {}),
      ...(dossier.returnedAt ? { returnedAt: dossier.returnedAt } : {}),
      ...(keptStatus ? { keptPortalStatus: keptStatus } : {}),
    },
  };
}

/**
 * Whether the portal's latest arrival at `status` was the step from `from` (so a step from → status
 * finds it done: its own retry, a double submission, or a dossier.sync that carried the status);
 * a dossier created at `status` counts as having come from registered.
 */
function cameFrom(history: { TrangThai: string }[], status: string, from: string): boolean {
  let i = history.length - 1;
  while (i >= 0 && history[i].TrangThai !== status) i--;
  if (i < 0) return false;
  return i === 0 ? from === statusToPortal('registered') : history[i - 1].TrangThai === from;
}

export async function reportProgress(message: Envelope, ctx: ConnectorContext<unknown>, deps: HandlerDeps): Promise<HandleResult> {
  const progress = message.data as DossierProgress;
  const agency = message.from.member;
  const code = progress.dossierCode;
  const item = mapped(`dossier ${code}`, () => toPortalProgress(progress));
  const from = statusToPortal(progress.previousStatus);
  if (REENTERABLE_STATUSES.has(item.TrangThai)) {
    // The portal acknowledges a step to the status it already holds without recording it. For a
    // status a dossier comes back to (processing → supplement_requested → processing), a step
    // that overtook an earlier one still being retried (supplement_requested after a 429) would
    // find the portal there from the earlier pass: acknowledged, lost, and the retried earlier
    // step then left the portal at supplement_requested. So where the step leads is asked first.
    const current = await portalRecord(deps, agency, code, ctx.signal);
    if (!current) throw new WaitForEarlierMessage(`CapNhatTienDoHoSoMC ${code}: the portal does not hold the dossier yet among ${agency}'s dossiers (its dossier.sync from ${agency} may still be on its way)`);
    if (current.TrangThaiHoSo === item.TrangThai && !cameFrom(current.QuaTrinhXuLy ?? [], item.TrangThai, from)) {
      throw new WaitForEarlierMessage(
        `CapNhatTienDoHoSoMC ${code}: the portal holds ${portalStatusText(current.TrangThaiHoSo)} from an earlier step, not from ${portalStatusText(from)}; ${progress.previousStatus} → ${progress.status} waits for an earlier update`,
      );
    }
  }
  const answer = await askAgain(deps, ctx.signal, () => deps.client.call('integration', agency, { service: 'CapNhatTienDoHoSoMC', data: [item] }, ctx.signal));
  if (answer.error_code === NOT_FOUND) {
    throw new WaitForEarlierMessage(`CapNhatTienDoHoSoMC ${code}: the portal does not hold the dossier yet among ${agency}'s dossiers (its dossier.sync from ${agency} may still be on its way)`);
  }
  if (answer.error_code === ILLEGAL_TRANSITION) {
    // Waiting helps only while the portal is behind. When it has already been through this
    // step's starting status and moved on, no earlier update is missing: the step contradicts
    // the dossier's course and would wait out the whole retry budget. Dead-lettered instead,
    // with the reason, for an operator.
    // "Has already been through it" is not enough: a dossier comes back to a status (processing
    // → supplement_requested → processing), and a step of the second pass may overtake the
    // update that brings it back, which is still being retried.
    const current = await portalRecord(deps, agency, code, ctx.signal);
    if (current && current.TrangThaiHoSo !== from && !canReachStatus(current.TrangThaiHoSo, from)) {
      throw new PermanentError(`CapNhatTienDoHoSoMC ${code}: the portal holds ${portalStatusText(current.TrangThaiHoSo)}, from which the dossier cannot come to ${portalStatusText(from)} any more; ${progress.previousStatus} → ${progress.status} contradicts the dossier's course`);
    }
    throw new WaitForEarlierMessage(`CapNhatTienDoHoSoMC ${code}: the portal holds ${portalStatusText(answer.current_status)}; ${progress.previousStatus} → ${progress.status} waits for an earlier update`);
  }
  if (answer.error_code !== PORTAL_OK) throw portalRefusal(`CapNhatTienDoHoSoMC ${code}`, answer);
  await remember(ctx.state, knownKey(agency, code));
  // When the result is returned, add the portal's appointment date (NgayHenTra) so the
  // operators' on-time KPI can compare it with the return date; a failed lookup only loses that.
  let timing: Record<string, string> = {};
  if (progress.returnedAt) {
    const record = await portalRecord(deps, agency, code, ctx.signal).catch(() => null);
    if (record?.NgayHenTra) timing = { NgayHenTra: record.NgayHenTra, returnedAt: progress.returnedAt };
  }
  return { detail: { portalCall: 'CapNhatTienDoHoSoMC', dossierCode: code, status: progress.status, ...timing } };
}

export async function lookupDossier(message: Envelope, ctx: ConnectorContext<unknown>, deps: HandlerDeps): Promise<HandleResult> {
  const code = (message.data as { dossierCode: string }).dossierCode;
  // A lookup is worth answering only while someone waits for it; a retried one that has aged
  // past that is finished without asking the portal again.
  if (Date.now() - Date.parse(message.time) > deps.lookupMaxAgeMs) {
    return { detail: { replied: false, reason: 'the requester had stopped waiting' } };
  }
  const answer = await askAgain(deps, ctx.signal, () => deps.client.call('share', message.from.member, { service: 'TraCuuHoSo', mahoso: code }, ctx.signal));
  if (answer.error_code !== PORTAL_OK) throw portalRefusal(`TraCuuHoSo ${code}`, answer);
  const reply = mapped(`dossier ${code}`, () => fromPortalLookup(code, answer.result as PortalLookupRecord[] | undefined));
  await ctx.reply(reply as unknown as Record<string, unknown>);
  return { detail: { replied: true, found: reply.found } };
}

export async function deliverSubmitted(message: Envelope, ctx: ConnectorContext<unknown>, deps: HandlerDeps): Promise<HandleResult> {
  const url = ctx.service.endpoint;
  if (!url) throw new PermanentError(`service ${ctx.service.code} of ${ctx.service.provider} has no delivery endpoint in the registry`);
  const response = await ctx.deliver({ url, envelope: message, timeoutMs: deps.requestTimeoutMs });
  return { detail: { httpStatus: response.status, dossierCode: (message.data as { dossierCode: string }).dossierCode } };
}
