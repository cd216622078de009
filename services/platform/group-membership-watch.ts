// Notices a consumer that goes on fetching after its group has dropped it, so that it can be
// restarted. Found by an operator's drill: after a broker hang, one of two runners kept
// delivering its old partitions while the other had taken them over — half the messages arrived
// twice, for as long as the runner ran, and nothing said so.
//
// How kafkajs (2.2.4) gets there: a heartbeat or commit answered UNKNOWN_MEMBER_ID makes its
// runner forget the member id and rejoin (runner.js, "The coordinator is not aware of this
// member, re-joining the group"). When that rejoin fails (the coordinator still recovering), its
// retrier starts the fetchers again with the old assignment and no member id; fetch requests
// carry no membership, so they succeed, while heartbeats are skipped for want of a member id
// (consumerGroup.js: `if (memberId && …)`), so nothing ever fails again and it never rejoins.
//
// The sign, from kafkajs's own instrumentation events: Fetch requests answered by a broker, for
// longer than a heartbeat takes to follow them, while no heartbeat has succeeded for longer than
// the session timeout. A healthy consumer heartbeats after every fetch (at most every heartbeat
// interval): after a broker frozen longer than a session its first Fetch is answered before its
// heartbeat, which then fails and makes kafkajs rejoin by itself — the grace leaves it that
// (a drill restarted such consumers 1–4 s after the broker woke before the grace: harmless, one
// rebalance more). One whose broker is down gets no Fetch answered, and one whose partitions
// are all paused sends none (its fetch loop goes on without a request: its FETCH event is no sign
// of a broker answering).

/** A kafkajs instrumentation event, as far as the watch reads it. */
interface InstrumentationEvent {
  payload?: { apiName?: string };
}

/** The kafkajs consumer's instrumentation, as far as the watch needs it. */
export interface ConsumerInstrumentation {
  on(event: string, listener: (event: InstrumentationEvent) => void): unknown;
  events: { HEARTBEAT: string; GROUP_JOIN: string; REQUEST: string };
}

export interface MembershipWatchOptions {
  /** The group's session timeout: a member that has not heartbeaten for this long has been dropped. */
  sessionTimeoutMs: number;
  /** Called once the consumer is found fetching without its membership, with how long it has not heartbeaten. */
  onLost(silentForMs: number): void;
  /** How long Fetch requests must go on being answered without a heartbeat (default: a fifth of the session timeout, the heartbeat interval's double). */
  graceMs?: number;
  /** How often to look (default 2 s: a lost member's fetches are deliveries another member makes too). */
  checkEveryMs?: number;
  now?: () => number;
}

/** Starts watching; returns the function that stops it. */
export function watchGroupMembership(consumer: ConsumerInstrumentation, opts: MembershipWatchOptions): () => void {
  const now = opts.now ?? Date.now;
  // A consumer starting or restarting has a whole session to join.
  let lastMemberAt = now();
  /** The first and the last Fetch answered since the last sign of membership. */
  let fetchingSince = Infinity;
  let lastFetchAt = -Infinity;
  const graceMs = opts.graceMs ?? Math.floor(opts.sessionTimeoutMs / 5);
  const member = () => {
    lastMemberAt = now();
    fetchingSince = Infinity;
  };
  consumer.on(consumer.events.HEARTBEAT, member);
  consumer.on(consumer.events.GROUP_JOIN, member);
  consumer.on(consumer.events.REQUEST, (event) => {
    if (event.payload?.apiName !== 'Fetch') return;
    lastFetchAt = now();
    if (fetchingSince === Infinity) fetchingSince = lastFetchAt;
  });
  const timer = setInterval(() => {
    const at = now();
    const silentFor = at - lastMemberAt;
    const fetchingNow = at - lastFetchAt < graceMs;
    if (silentFor <= opts.sessionTimeoutMs || !fetchingNow || lastFetchAt - fetchingSince < graceMs) return;
    // Counted from now: the restart the caller makes has its own session to join.
    member();
    opts.onLost(silentFor);
  }, opts.checkEveryMs ?? 2000);
  timer.unref();
  return () => clearInterval(timer);
}
