// How long a caller of POST /v1/requests waits for the reply (RFC 7240 `Prefer: wait`). The
// gateway bounds the wait with these; the runner reads the upper bound to know how long after
// acceptance somebody may still be waiting on a request it retries.
export const DEFAULT_WAIT_SECONDS = 10;
export const MAX_WAIT_SECONDS = 30;
