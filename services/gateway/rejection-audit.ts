// Refused requests are audited too (DESIGN §6: `rejected` with reason). They are published in
// the background: a refusal must not wait for, or fail because of, Kafka.
// Token-endpoint refusals are counted instead: one `rejected` event per client and address per
// interval with the count and the reasons, so a credential-guessing flood costs the audit a
// handful of entries, not one permanent entry per attempt.
import { uuidv7 } from '../platform/uuid7.js';
import { eventRecords, type BusEvent } from '../platform/bus-events.js';
import type { BatchingProducer } from '../platform/kafka-transport.js';
import type { Logger } from '../platform/logger.js';
import type { Topics } from '../platform/topics.js';
import type { Registry } from '../platform/registry.js';
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';

/** What a refusal's entry says of a message type the bus does not offer (the caller's text is not kept). */
export const NOT_OFFERED = '(not offered)';
/** What a refusal's entry says of a recipient code that is not in the directory. */
export const NOT_IN_DIRECTORY = '(not in the directory)';

/**
 * The type and recipients a refused submission is audited with: only what the bus vouches for.
 * The entry goes to lgsp.events in clear and into the permanent audit chain, so, as for a client
 * id at the token endpoint, a caller's text that is not an offered type or a member of the
 * directory is written as a placeholder, never as sent: it may be a citizen's name or id number
 * in the wrong field, or (a refusal made before the body's schema is checked) any JSON value up
 * to the body limit.
 */
export function vouchedSubmission(
  type: unknown,
  members: readonly unknown[],
  known: { type: (type: string) => boolean; member: (code: string) => boolean },
): { type: string; toMember?: string } {
  const vouchedType = typeof type === 'string' && known.type(type) ? type : NOT_OFFERED;
  if (members.length === 0) return { type: vouchedType };
  return { type: vouchedType, toMember: members.map((m) => (typeof m === 'string' && known.member(m) ? m : NOT_IN_DIRECTORY)).join(',') };
}

/** The gateway's own vouchers: the message types it offers and the members of its directory. */
export function vouchers(ctx: { catalogue: SchemaCatalogue; registry: () => Registry }): { type: (type: string) => boolean; member: (code: string) => boolean } {
  return { type: (type) => ctx.catalogue.messageTypes.has(type), member: (code) => ctx.registry().member(code) !== undefined };
}

/** Distinct (client, address) pairs counted per interval; the rest share one overflow row. */
const MAX_TALLIES = 1000;
const OVERFLOW = '(other)';

interface Tally {
  clientId: string;
  address: string;
  count: number;
  reasons: Record<string, number>;
  firstAt: string;
  lastAt: string;
}

export class RejectionAudit {
  private tallies = new Map<string, Tally>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly producer: BatchingProducer,
    private readonly topics: Topics,
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  rejection(stage: string, detail: Record<string, unknown>, caller?: { clientId: string; member: string }): void {
    this.publish({
      id: uuidv7(),
      event: 'rejected',
      at: new Date().toISOString(),
      actor: 'gateway',
      ...(caller ? { from: { member: caller.member, system: caller.clientId } } : {}),
      detail: { stage, ...detail },
    });
  }

  /** Counts one refused token request; published with the others at the end of the interval. */
  tokenRefusal(claimedClientId: string | null, address: string, reason: string): void {
    let clientId = (claimedClientId ?? '(none)').slice(0, 200);
    let key = `${clientId}\u0000${address}`;
    if (!this.tallies.has(key) && this.tallies.size >= MAX_TALLIES) {
      clientId = OVERFLOW;
      address = OVERFLOW;
      key = `${OVERFLOW}\u0000${OVERFLOW}`;
    }
    const now = new Date().toISOString();
    let tally = this.tallies.get(key);
    if (!tally) this.tallies.set(key, (tally = { clientId, address, count: 0, reasons: {}, firstAt: now, lastAt: now }));
    tally.count++;
    tally.lastAt = now;
    // Reasons are the endpoint's own fixed descriptions; the number of distinct ones stays small.
    const short = reason.slice(0, 120);
    if (tally.reasons[short] !== undefined || Object.keys(tally.reasons).length < 20) tally.reasons[short] = (tally.reasons[short] ?? 0) + 1;
  }

  /** Publishes the counts gathered so far (also called when the gateway stops). */
  flush(): void {
    if (this.tallies.size === 0) return;
    const tallies = [...this.tallies.values()];
    this.tallies = new Map();
    for (const t of tallies) {
      this.publish({
        id: uuidv7(),
        event: 'rejected',
        at: t.lastAt,
        actor: 'gateway',
        detail: { stage: 'token', clientId: t.clientId, address: t.address, count: t.count, reasons: t.reasons, from: t.firstAt, until: t.lastAt, intervalMs: this.intervalMs },
      });
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private publish(ev: BusEvent): void {
    this.producer.send(eventRecords(this.topics, ev)).catch((err: Error) => this.log.warn({ err: err.message }, 'could not audit a rejection'));
  }
}
