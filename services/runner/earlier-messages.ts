// Whether a message that waits for an earlier one of its key (WaitForEarlierMessage: an update
// that overtook the create it depends on) still has anything to wait for. Without this bound a
// message that can never be applied — a first sync at a status the portal cannot create, a
// progress for a dossier nobody synced, a step whose predecessor was dead-lettered — waited
// "for an earlier update" until its whole retry budget (24 h) was spent.
//
// The answer comes from the message read model the ledger keeps (console_messages), shared by
// every runner: a message of the same sender, recipient and correlation id, accepted before this
// one, whose outcome is still open (accepted, or failed and waiting for its retry). Only the
// sender's own messages count: a dossier is the sending agency's (the portal keeps each agency's
// dossiers apart), so another agency's message under the same code is not an earlier update of
// it, and must not hold it up, nor be waited for. Every answer errs
// towards waiting: a gateway writes a message's row before its 202, so an earlier message is
// not missing from it (short of a PostgreSQL crash losing the last instant of those rows, which
// the message's first outcome writes again: message-store.ts), and a row the ledger has not yet moved to `delivered` still counts as
// open — the waiting message is simply asked about again at its next attempt.
import type { Database } from '../platform/database.js';
import { acceptanceOrder, type Envelope } from '../platform/envelope.js';

// Unprepared (prepared-statement.ts: lookups stay unprepared); console_messages_by_correlation
// finds a dossier's few messages.
const OPEN_EARLIER = `SELECT id FROM console_messages
  WHERE correlation_id = $1 AND to_member = $2 AND from_member = $5 AND id <> $3
    AND status IN ('accepted', 'failed')
    AND (coalesce(accepted_at, last_event_at) || '|' || id) COLLATE "C" < $4 COLLATE "C"
  LIMIT 1`;

export interface EarlierMessages {
  /** How long after its acceptance (or replay) a waiting message is first asked about. */
  readonly graceMs: number;
  /** The id of an earlier message of the same key still on the bus, or null when there is none. */
  openBefore(envelope: Envelope): Promise<string | null>;
}

export function earlierMessagesIn(db: Database, graceMs: number): EarlierMessages {
  return {
    graceMs,
    async openBefore(envelope) {
      const { rows } = await db.query<{ id: string }>(OPEN_EARLIER, [envelope.correlationId, envelope.to.member, envelope.id, acceptanceOrder(envelope), envelope.from.member]);
      return rows[0]?.id ?? null;
    },
  };
}
