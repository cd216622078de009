// The life of one document at one recipient, as status codes (QCVN 102:2016 status packets).
// Pure: the gateway asks it before anything reaches Kafka, so an illegal packet is refused with
// the allowed codes named, and it is the one place the interpretation below is written down.
//
//   01 arrived / waiting      02 refused (final)       03 received (registered)
//   04 assigned               05 processing            06 completed
//   13 revoke requested — recorded by the bus when the sender revokes (BussinessDocType 1)
//   15 revoke/update accepted by the recipient        16 revoke/update refused by the recipient
//
// Sources differ on 13/15/16. Here the sender asks (revoke = 1, update = 2, replace = 3, sent as
// an edoc.send that references the original DocumentId) and the recipient answers 15 or 16; the
// bus records 13 on the recipient's timeline for a revoke so the sender sees it pending. After
// 15 to a revoke the document is revoked at that recipient and nothing more is accepted; after
// 15 to an update/replace, or after 16, processing continues from where it was.

export const STATUS_CODES = ['01', '02', '03', '04', '05', '06', '13', '15', '16'] as const;
export type StatusCode = (typeof STATUS_CODES)[number];

export type ChangeKind = 'revoke' | 'update' | 'replace';

export interface RecipientState {
  /** Last processing code, or 'sent' before the recipient said anything. */
  code: 'sent' | '01' | '02' | '03' | '04' | '05' | '06';
  /** A revoke/update/replace the recipient has not answered yet. */
  pending: ChangeKind | null;
  revoked: boolean;
}

export const INITIAL_STATE: RecipientState = { code: 'sent', pending: null, revoked: false };

export type Transition = { ok: true; state: RecipientState; recorded: StatusCode | null } | { ok: false; reason: string; allowed: string[] };

const NEXT: Record<RecipientState['code'], RecipientState['code'][]> = {
  sent: ['01', '02', '03'],
  '01': ['02', '03'],
  '02': [],
  '03': ['04', '05', '06'],
  '04': ['04', '05', '06'],
  '05': ['05', '06'],
  '06': [],
};

export function businessKind(bussinessDocType: number | undefined): ChangeKind | null {
  return bussinessDocType === 1 ? 'revoke' : bussinessDocType === 2 ? 'update' : bussinessDocType === 3 ? 'replace' : null;
}

function allowedFor(state: RecipientState): string[] {
  if (state.revoked) return [];
  if (state.pending) return ['15', '16'];
  return NEXT[state.code];
}

/** A status packet from the recipient. */
export function applyStatus(state: RecipientState, code: string): Transition {
  const allowed = allowedFor(state);
  const refuse = (reason: string): Transition => ({ ok: false, reason, allowed });
  if (state.revoked) return refuse('the document was revoked at this recipient; no further status is accepted');
  if (code === '13') return refuse('13 (revoke requested) is recorded by the bus when the sender revokes; a recipient answers a revoke with 15 or 16');
  if (code === '15' || code === '16') {
    if (!state.pending) return refuse(`${code} answers a revoke, update or replace, and none is pending for this document`);
    const revoked = code === '15' && state.pending === 'revoke';
    return { ok: true, state: { code: state.code, pending: null, revoked }, recorded: code };
  }
  if (state.pending) return refuse(`${withArticle(state.pending)} of this document is pending; answer it with 15 (accept) or 16 (refuse) first`);
  if (state.code === '02') return refuse('the recipient refused this document (02); nothing can follow');
  if (state.code === '06') return refuse('the document is completed (06); only a revoke, update or replace by the sender can follow');
  if (!(NEXT[state.code] as string[]).includes(code)) {
    const where = state.code === 'sent' ? 'before any status' : `after ${state.code}`;
    return refuse(`${code} is not allowed ${where}${Number(code) > 3 && ['sent', '01'].includes(state.code) ? ' (the document must be received, 03, first)' : ''}`);
  }
  return { ok: true, state: { ...state, code: code as RecipientState['code'] }, recorded: code as StatusCode };
}

/** A revoke, update or replace from the sender. */
export function applyChange(state: RecipientState, kind: ChangeKind): Transition {
  if (state.revoked) return { ok: false, reason: 'the document was already revoked at this recipient', allowed: [] };
  if (state.code === '02') return { ok: false, reason: 'the recipient refused this document (02); there is nothing to ' + kind, allowed: [] };
  if (state.pending) return { ok: false, reason: `${withArticle(state.pending)} of this document is still waiting for the recipient's answer (15 or 16)`, allowed: [] };
  return { ok: true, state: { ...state, pending: kind }, recorded: kind === 'revoke' ? '13' : null };
}

/** "a revoke", "an update", "a replace": the pending change as the refusals name it. */
function withArticle(change: string): string {
  return `${/^[aeiou]/.test(change) ? 'an' : 'a'} ${change}`;
}
