// Names of the Kafka record headers the bus's services agree on. They are a contract between
// producers and readers in different services (the runner writes the retry and dead-letter
// headers, the console reads them; the runner writes the deposit time, the ledger reads
// it), so they live here rather than in whichever implementation happened to write them first.

/** Retry and dead-letter bookkeeping written by the runner. */
export const ATTEMPT_HEADER = 'lgsp-attempt';
export const NOT_BEFORE_HEADER = 'lgsp-not-before';
export const ORIGIN_TOPIC_HEADER = 'lgsp-origin-topic';
export const DLQ_REASON_HEADER = 'lgsp-dlq-reason';
/** On a retry: how many earlier attempts only waited for an earlier message (they do not grow the backoff). */
export const WAITS_HEADER = 'lgsp-waits';
/** On a retry whose last attempt waited for an earlier message: when that attempt started. */
export const WAITED_AT_HEADER = 'lgsp-waited-at';

/**
 * On a retry: the destination it failed to reach (the runner releases parked retries of a
 * destination together when it is reachable again), and, after a dead-letter replay, when the
 * replay started a fresh retry budget (epoch ms; the budget otherwise runs from acceptance).
 */
export const DESTINATION_HEADER = 'lgsp-destination';
export const RETRY_SINCE_HEADER = 'lgsp-retry-since';
/** On a retry put back unattempted while its destination was down: run it as soon as that destination is reachable. */
export const HELD_HEADER = 'lgsp-held';

/** When a pull-delivery message was put in the receiving system's inbox. */
export const DEPOSITED_AT_HEADER = 'lgsp-deposited-at';

/** Dead-letter replays: who replayed, and the dead-lettered record replayed. */
export const REPLAYED_BY_HEADER = 'lgsp-replayed-by';
export const REPLAY_OF_HEADER = 'lgsp-replay-of';
