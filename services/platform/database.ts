// The shared PostgreSQL store every service uses for state more than one process reads or
// writes. One pool per process and database URL; the schema is brought up to date once, at
// first open (services/platform/migrations, see migrations.ts). Connection trouble surfaces as
// DatabaseUnavailableError so HTTP handlers answer 503 + Retry-After instead of a 500 — or,
// worse, a 202 the bus could not stand behind.
import pg from 'pg';
import { migrateDatabase } from './migrations.js';
import { databaseClientConfig } from './database-connection.js';
import { countStatement } from './database-statement-counts.js';
import type { PreparedStatement } from './prepared-statement.js';
import { ConfigError } from './config.js';

// bigint (count(*), bigserial) as JS numbers: our counters and sequence values stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** A statement's text, or a statement prepared once per connection (prepared-statement.ts). */
export type Statement = string | PreparedStatement;

/** What stores need to run a statement: the pool, or one transaction's connection. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: Statement, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface Database extends Queryable {
  readonly pool: pg.Pool;
  /** Runs a statement allowed longer than statementTimeoutMs(): its own transaction, with its own server-side timeout. */
  longQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: LongStatement, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * Runs fn in one transaction on one pooled connection; rolls back if it throws. With
   * `idleTimeoutMs`, the server ends the session (and so the transaction and its row locks) when
   * it sits that long between statements: a process that hangs mid-transaction (frozen, its host
   * paused, cut off) then no longer holds its locks for as long as it hangs.
   */
  transaction<T>(fn: (client: Queryable) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** Ends the pool once every opener has closed it. */
  close(): Promise<void>;
}

export interface TransactionOptions {
  /** idle_in_transaction_session_timeout for this transaction (ms); above the longest legitimate wait between its statements. */
  idleTimeoutMs?: number;
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
  constructor(cause: unknown) {
    super(`PostgreSQL is unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

// SQLSTATE classes/codes meaning "the server is not there for you right now", as opposed to a
// bad statement: 08 connection exceptions, 53 insufficient resources, 57P01-03 shutdown/startup.
// 57014 (query_canceled) is the server's own statement_timeout (see statementTimeoutMs); "Query
// read timeout" is the client's, when the server does not answer at all.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[123]|57014)/;
const UNAVAILABLE_NODE = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Query read timeout/i;

/**
 * How long one statement may take before it counts as "PostgreSQL unavailable" (503
 * STATE_UNAVAILABLE, Retry-After; a worker tries again later). Without a bound, a server that
 * hangs rather than refuses (frozen, its disk stalled, a lock held forever) held every request
 * that touched it for as long as it hung: POST /v1/messages waited with the client. Two bounds:
 * the server's statement_timeout cancels a statement that runs or waits too long (nothing it
 * would have written is committed), and the client's read timeout, a little later, gives up
 * on a server that does not answer at all and discards the connection. Statements that may
 * legitimately run longer (reports over a long period) ask for more with longStatement().
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;

/** LGSP_DATABASE_STATEMENT_TIMEOUT_MS, checked (pools are opened apart from loadConfig, so it is read here). */
export function statementTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LGSP_DATABASE_STATEMENT_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_STATEMENT_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1000 || ms > 3_600_000) {
    throw new ConfigError(`LGSP_DATABASE_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 3600000 (got ${JSON.stringify(raw)})`);
  }
  return ms;
}
/**
 * The idle bound of a transaction held open across a Kafka produce (Database.transaction's
 * `idleTimeoutMs`): the produce may take up to `produceTimeoutMs` between two statements, and a
 * statement's worth more covers the work around it. Past that the process holding it hangs, and
 * the server ends its session so its row locks (an Idempotency-Key, an inbox item) are freed for
 * the client's retry on another replica.
 */
export function produceTransactionIdleMs(produceTimeoutMs: number): number {
  return produceTimeoutMs + statementTimeoutMs();
}

/** The client waits this much longer than the server's own timeout, so a live server's cancellation (a clean error) comes first. */
const CLIENT_GRACE_MS = 2_000;

/** A statement allowed `timeoutMs` instead of the statement timeout. Run it with Database.longQuery(). */
export interface LongStatement {
  readonly text: string;
  readonly timeoutMs: number;
}

export function longStatement(text: string, timeoutMs: number): LongStatement {
  return { text, timeoutMs };
}

export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_NODE.test(e.code))) return true;
  return typeof e.message === 'string' && UNAVAILABLE_NODE.test(e.message);
}

/**
 * An error about the values a statement carried (SQLSTATE class 22, data exception: e.g. a
 * character PostgreSQL text cannot hold, a number out of range), not about the database: the
 * same statement without the offending values would have succeeded.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

function translate(err: unknown): never {
  throw isDatabaseUnavailable(err) && !(err instanceof DatabaseUnavailableError) ? new DatabaseUnavailableError(err) : err;
}

export interface OpenDatabaseOptions {
  /** Shown in pg_stat_activity: which service holds a connection. */
  applicationName?: string;
  /**
   * A pool apart from the process's shared one for this URL (e.g. the ledger's, whose
   * transactions must not hold up the runner's delivery-ledger writes). Default: the shared one.
   */
  separatePool?: string;
  /** Most connections this process keeps (default 10). */
  maxConnections?: number;
  /** Logs pool-level errors (an idle connection dropped by a restarting server). */
  onError?: (err: Error) => void;
}

interface SharedPool {
  pool: pg.Pool;
  ready: Promise<void>;
  users: number;
}

const pools = new Map<string, SharedPool>();

/** Opens `count` connections at once and returns them to the pool idle. Failures are left to the first statement that needs one. */
function warmUp(pool: pg.Pool, count: number): void {
  for (let i = 0; i < count; i++) {
    pool.connect().then((client) => client.release(), () => undefined);
  }
}

/**
 * Opens (or joins) this process's pool for `url` and applies pending migrations. Services in
 * one process (the test harness runs gateway and runner together) share one pool per URL,
 * unless one asks for a separate pool.
 */
export async function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  if (!url) throw new Error('DATABASE_URL is not set: point it at a PostgreSQL database (npm start and npm test start a local one)');
  const key = `${url}\u0000${opts.separatePool ?? ''}`;
  let shared = pools.get(key);
  if (!shared) {
    // TLS settings come from the URL (database-connection.ts); a bad one stops the start here.
    // A handshake happens once per pooled connection, not per statement.
    const max = opts.maxConnections ?? 10;
    const timeoutMs = statementTimeoutMs();
    // Half of the connections are opened right after the pool is made and kept open while idle.
    // A new connection costs a TLS handshake, a SCRAM exchange and a server backend — half a
    // second on a loaded two-core machine — and pg's pool makes the statement that asked for it
    // wait for exactly that connection, even when another is released sooner: a cold pool
    // meeting a burst made the burst's first requests wait that long, one after another.
    const warm = Math.ceil(max / 2);
    const pool = new pg.Pool({
      ...databaseClientConfig(url),
      max,
      // Idle connections beyond these close after idleTimeoutMillis; these stay.
      min: warm,
      application_name: opts.applicationName ?? 'lgsp',
      // A server that is down refuses at once (ECONNREFUSED → 503); this bounds the wait for a
      // free connection when all are busy (a slow Kafka acknowledgement holds some) and for an
      // unreachable host.
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: timeoutMs,
      query_timeout: timeoutMs + CLIENT_GRACE_MS,
    });
    // Without a listener an idle client's error (server restarted) would crash the process.
    pool.on('error', (err) => opts.onError?.(err));
    const ready = migrateDatabase(url).then(() => undefined);
    // Opened in the background: starting a service does not wait for them (a statement sent
    // meanwhile opens a connection of its own, as without warming).
    ready.then(() => warmUp(pool, warm), () => undefined);
    shared = { pool, ready, users: 0 };
    pools.set(key, shared);
    ready.catch(() => pools.delete(key));
  }
  shared.users++;
  const entry = shared;
  try {
    await entry.ready;
  } catch (err) {
    entry.users--;
    if (entry.users === 0) await entry.pool.end().catch(() => {});
    throw err;
  }
  let closed = false;
  const poolName = opts.separatePool ?? 'shared';
  const counting =
    (q: pg.Pool | pg.PoolClient) =>
    <R extends pg.QueryResultRow = pg.QueryResultRow>(statement: Statement, values?: unknown[]) => {
      countStatement(poolName);
      return typeof statement === 'string' ? q.query<R>(statement, values) : q.query<R>({ name: statement.name, text: statement.text, values });
    };
  const query = counting(entry.pool);
  const database: Database = {
    pool: entry.pool,
    query: <R extends pg.QueryResultRow>(statement: Statement, values?: unknown[]) => query<R>(statement, values).catch(translate),
    longQuery: <R extends pg.QueryResultRow>(statement: LongStatement, values?: unknown[]) =>
      database.transaction(async (tx) => {
        // SET LOCAL: for this transaction only; the connection goes back to the pool with the default.
        await tx.query(`SET LOCAL statement_timeout = ${Math.floor(statement.timeoutMs)}`);
        return (tx as TimedQueryable).timedQuery<R>(statement.text, values, statement.timeoutMs + CLIENT_GRACE_MS);
      }),
    async transaction(fn, txOpts) {
      const client = await entry.pool.connect().catch(translate);
      let broken = false;
      // A connection the server drops while we hold it (between statements, e.g. while Kafka
      // acknowledges) reports the error on the client, not on a query: without a listener it
      // would crash the process. The next statement on it fails and the transaction ends there.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      const inTransaction = counting(client);
      const timedQuery = <R extends pg.QueryResultRow>(text: string, values: unknown[] | undefined, timeoutMs: number) => {
        countStatement(poolName);
        return client.query<R>({ text, values, query_timeout: timeoutMs } as pg.QueryConfig);
      };
      try {
        // One round trip either way: the simple-query protocol takes both statements at once.
        const idle = txOpts?.idleTimeoutMs;
        await inTransaction(idle ? `begin; set local idle_in_transaction_session_timeout = ${Math.max(1, Math.floor(idle))}` : 'begin');
        const result = await fn({ query: inTransaction, timedQuery } as TimedQueryable);
        await inTransaction('commit');
        return result;
      } catch (err) {
        broken ||= isDatabaseUnavailable(err);
        if (!broken) await inTransaction('rollback').catch(() => {});
        return translate(broken && !isDatabaseUnavailable(err) ? new DatabaseUnavailableError(err) : err);
      } finally {
        client.off('error', onError);
        // A connection that failed mid-transaction is discarded, not handed to the next caller.
        client.release(broken);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      entry.users--;
      if (entry.users === 0) {
        pools.delete(key);
        await entry.pool.end();
      }
    },
  };
  return database;
}

/** A transaction's connection, which can also run one statement with a read timeout of its own (longQuery). */
interface TimedQueryable extends Queryable {
  timedQuery<R extends pg.QueryResultRow>(text: string, values: unknown[] | undefined, timeoutMs: number): Promise<pg.QueryResult<R>>;
}
