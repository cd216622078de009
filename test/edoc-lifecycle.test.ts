// The status lifecycle per (document, recipient): every code from every state, against the
// table the vendor guide documents.
import t from 'tap';
import { applyChange, applyStatus, INITIAL_STATE, STATUS_CODES, type RecipientState } from '../services/document-exchange/status-lifecycle.js';

const state = (code: RecipientState['code'], extra: Partial<RecipientState> = {}): RecipientState => ({ ...INITIAL_STATE, code, ...extra });
const allowedFrom = (s: RecipientState) => STATUS_CODES.filter((c) => applyStatus(s, c).ok);

t.test('processing codes follow 01/02/03 → 04 → 05 → 06', async (t) => {
  t.same(allowedFrom(INITIAL_STATE), ['01', '02', '03']);
  t.same(allowedFrom(state('01')), ['02', '03']);
  t.same(allowedFrom(state('02')), [], 'nothing after a refusal');
  t.same(allowedFrom(state('03')), ['04', '05', '06']);
  t.same(allowedFrom(state('04')), ['04', '05', '06'], 'reassignment allowed');
  t.same(allowedFrom(state('05')), ['05', '06'], 'progress updates allowed');
  t.same(allowedFrom(state('06')), [], 'nothing after completion');
  const early = applyStatus(INITIAL_STATE, '06');
  t.match(early, { ok: false, reason: /not allowed before any status \(the document must be received, 03, first\)/, allowed: ['01', '02', '03'] });
  t.match(applyStatus(INITIAL_STATE, '13'), { ok: false, reason: /recorded by the bus/ });
  t.match(applyStatus(INITIAL_STATE, '15'), { ok: false, reason: /none is pending/ });
  t.match(applyStatus(INITIAL_STATE, '99'), { ok: false });
});

t.test('revoke: the bus records 13, the recipient answers 15 (revoked, final) or 16 (processing goes on)', async (t) => {
  const requested = applyChange(state('06'), 'revoke');
  t.match(requested, { ok: true, recorded: '13', state: { code: '06', pending: 'revoke', revoked: false } });
  if (!requested.ok) return;
  t.same(allowedFrom(requested.state), ['15', '16'], 'only an answer while pending');
  t.match(applyStatus(requested.state, '05'), { ok: false, reason: /pending/ });
  const accepted = applyStatus(requested.state, '15');
  t.match(accepted, { ok: true, recorded: '15', state: { revoked: true, pending: null } });
  if (accepted.ok) {
    t.same(allowedFrom(accepted.state), [], 'nothing after a revoke is accepted');
    t.match(applyChange(accepted.state, 'update'), { ok: false, reason: /already revoked/ });
  }
  const pending = applyChange(state('04'), 'revoke');
  t.ok(pending.ok);
  const refused = applyStatus(pending.ok ? pending.state : INITIAL_STATE, '16');
  t.match(refused, { ok: true, recorded: '16', state: { code: '04', pending: null, revoked: false } });
  if (refused.ok) t.same(allowedFrom(refused.state), ['04', '05', '06'], 'processing continues after 16');
});

t.test('update and replace wait for 15/16 without recording 13; one change at a time; nothing to change after 02', async (t) => {
  const update = applyChange(state('03'), 'update');
  t.match(update, { ok: true, recorded: null, state: { pending: 'update' } });
  if (update.ok) {
    t.match(applyChange(update.state, 'revoke'), { ok: false, reason: /still waiting/ });
    const done = applyStatus(update.state, '15');
    t.match(done, { ok: true, state: { code: '03', pending: null, revoked: false } }, 'an accepted update keeps the document alive');
  }
  t.match(applyChange(state('02'), 'replace'), { ok: false, reason: /refused this document/ });
  t.match(applyChange(INITIAL_STATE, 'replace'), { ok: true, state: { pending: 'replace' } });
});
