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
// The sign, from kafkajs's own instrumentation events: Fetch requests still answered by a broker
// while no heartbeat has succeeded for longer than the session timeout. A healthy consumer
// heartbeats after every fetch (at most every heartbeat interval). One whose broker is down gets
// no Fetch answered, and one whose partitions are all paused sends none (its fetch loop goes
// on without a request: its FETCH event is no sign of a broker answering). Either way a member
// silent for a whole session is no longer in its group, so rejoining is right.

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
  /** How often to look (default: a third of the session timeout). */
  checkEveryMs?: number;
  now?: () => number;
}

/** Starts watching; returns the function that stops it. */
export function watchGroupMembership(consumer: ConsumerInstrumentation, opts: MembershipWatchOptions): () => void {
  const now = opts.now ?? Date.now;
  // A consumer starting or restarting has a whole session to join.
  let lastMemberAt = now();
  let lastFetchAt = -Infinity;
  const member = () => {
    lastMemberAt = now();
  };
  consumer.on(consumer.events.HEARTBEAT, member);
  consumer.on(consumer.events.GROUP_JOIN, member);
  consumer.on(consumer.events.REQUEST, (event) => {
    if (event.payload?.apiName === 'Fetch') lastFetchAt = now();
  });
  const timer = setInterval(() => {
    const silentFor = now() - lastMemberAt;
    if (silentFor <= opts.sessionTimeoutMs || lastFetchAt <= lastMemberAt + opts.sessionTimeoutMs) return;
    // Counted from now: the restart the caller makes has its own session to join.
    lastMemberAt = now();
    opts.onLost(silentFor);
  }, opts.checkEveryMs ?? Math.max(1000, Math.floor(opts.sessionTimeoutMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
