// PostgreSQL that hangs instead of refusing: a statement stuck behind a lock, and a server whose
// every process is frozen (SIGSTOP). Submissions answer 503 STATE_UNAVAILABLE within the
// statement timeout instead of waiting as long as the database does, commit nothing for the
// refused message, and go back to 202 when the database answers again.
import { execFileSync } from 'node:child_process';
import t from 'tap';

// A short statement timeout for this test's services (read when database.ts is loaded).
process.env.LGSP_DATABASE_STATEMENT_TIMEOUT_MS = '1500';
const { startLocalPostgres } = await import('../services/local-postgres/local-postgres.js');
const { startTestBus, eventually } = await import('./helpers/test-bus.js');
const { freeze } = await import('./helpers/frozen-process.js');
const { statementTimeoutMs, DEFAULT_STATEMENT_TIMEOUT_MS } = await import('../services/platform/database.js');

t.test('LGSP_DATABASE_STATEMENT_TIMEOUT_MS is checked, not taken as whatever it says', async (t) => {
  t.equal(statementTimeoutMs({}), DEFAULT_STATEMENT_TIMEOUT_MS, 'unset: 15 s');
  t.equal(statementTimeoutMs({ LGSP_DATABASE_STATEMENT_TIMEOUT_MS: '30000' }), 30_000);
  for (const bad of ['15s', '0', '-1', '999', '1.5']) {
    t.throws(() => statementTimeoutMs({ LGSP_DATABASE_STATEMENT_TIMEOUT_MS: bad }), { name: 'ConfigError', message: /LGSP_DATABASE_STATEMENT_TIMEOUT_MS must be a whole number/ }, `refused: ${bad}`);
  }
});

const submission = (n: number) => ({
  type: 'notice.send',
  to: { member: '000.00.15.H49', service: 'notice' },
  correlationId: `HANG-${n}`,
  payload: { subject: `Thông báo ${n}`, body: 'Kiểm thử cơ sở dữ liệu treo.' },
});

/** The postmaster and every backend it started: all of them must stop for the server to hang. */
function serverProcesses(postmaster: number): number[] {
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
  return [postmaster, ...children];
}

t.test('a statement stuck behind a lock: 503 STATE_UNAVAILABLE in bounded time, nothing committed, then 202 again', async (t) => {
  const bus = await startTestBus(t, { name: 'pg-lock' });
  const sender = bus.client('so-tttt-qlvb');
  await sender.accessToken();
  const before = await sender.send(submission(0));
  t.equal(before.status, 202, 'accepted before the lock');

  const holder = await bus.db.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE console_messages IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const r = await sender.send(submission(1));
    const took = Date.now() - started;
    t.equal(r.status, 503, 'refused while the statement cannot run');
    t.equal(r.body.code, 'STATE_UNAVAILABLE');
    t.ok(Number(r.headers.get('retry-after')) > 0, 'with Retry-After');
    t.ok(took < 10_000, `answered in ${took} ms, not when the lock goes`);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release();
  }

  const after = await sender.send(submission(2));
  t.equal(after.status, 202, 'accepted again once the lock is gone');
  // The refused statement was cancelled by the server: no row for HANG-1 ever appears, and only
  // the two accepted messages reach the receiver.
  await eventually(() => ((bus.simulator.received.get('so-tp-qlvb') ?? []).length >= 2 ? true : null), 60_000);
  const { rows } = await bus.db.query<{ correlation_id: string }>('SELECT correlation_id FROM console_messages ORDER BY correlation_id');
  t.same(rows.map((r) => r.correlation_id), ['HANG-0', 'HANG-2'], 'no status row for the refused message');
  t.same((bus.simulator.received.get('so-tp-qlvb') ?? []).map((m) => m.id).sort(), [before.body.id, after.body.id].sort(), 'only the accepted messages delivered');
});

t.test('a frozen PostgreSQL server: 503 STATE_UNAVAILABLE in bounded time, 202 again after it thaws', async (t) => {
  const postgres = await startLocalPostgres();
  t.teardown(() => postgres.stop());
  const bus = await startTestBus(t, { name: 'pg-frozen', databaseServer: postgres.url });
  const sender = bus.client('so-tttt-qlvb');
  await sender.accessToken();
  t.equal((await sender.send(submission(10))).status, 202, 'accepted before the freeze');

  // As root the server runs under runuser, which stops itself when its child stops (job control)
  // and would never reap the server at shutdown unless continued too.
  const parent = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(postgres.pid)], { encoding: 'utf8' }).trim());
  const thawServer = freeze(serverProcesses(postgres.pid!));
  let thawed = false;
  const thaw = () => {
    if (thawed) return;
    thawed = true;
    thawServer();
    // Not when the server is our own child (not root): SIGCONT to ourselves is harmless anyway.
    if (parent > 1 && parent !== process.pid) process.kill(parent, 'SIGCONT');
  };
  t.teardown(thaw);
  try {
    const answers = await Promise.all([11, 12, 13].map(async (n) => {
      const started = Date.now();
      const r = await sender.send(submission(n));
      return { status: r.status, code: r.body?.code, took: Date.now() - started };
    }));
    for (const a of answers) {
      t.equal(a.status, 503, 'refused while the server is frozen');
      t.equal(a.code, 'STATE_UNAVAILABLE');
      // The statement timeout (1.5 s + the client's 2 s) or, for a new connection, the pool's 10 s connect timeout.
      t.ok(a.took < 15_000, `answered in ${a.took} ms, not when the server wakes`);
    }
  } finally {
    thaw();
  }
  const again = await eventually(async () => {
    const r = await sender.send(submission(20));
    return r.status === 202 ? r : null;
  }, 30_000);
  t.match(again.body, { status: 'accepted', id: String }, 'accepted again after the server thawed');
});

// The console's Connectors view comes from the runners; only its dead-letter counts come from
// PostgreSQL. With those unreadable the view still lists the connectors (counts "—"): it answered
// 503 STATE_UNAVAILABLE as a whole, hiding the runners' state when the operator needed it.
t.test('the console lists connectors while the dead-letter table cannot be read', async (t) => {
  const { startConsole } = await import('../services/console/console-service.js');
  const bus = await startTestBus(t, { name: 'pg-lock-console' });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: bus.runner!.url } });
  t.teardown(() => consoleSvc.stop());
  const operator = await bus.client('lgsp-operator').accessToken();
  const connectors = () => fetch(`${consoleSvc.url}/v1/console/connectors`, { headers: { authorization: `Bearer ${operator}` } });
  const before = await connectors();
  t.equal(before.status, 200);
  t.match(await before.json(), [{ name: String, deadLetters: Number }]);

  const holder = await bus.db.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE console_dead_letters IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const r = await connectors();
    const took = Date.now() - started;
    t.equal(r.status, 200, 'still listed');
    const list = (await r.json()) as Array<{ name: string; connector: { state: string }; deadLetters: number | null }>;
    const relay = list.find((c) => c.name === 'relay');
    t.match(relay, { connector: { state: 'RUNNING' }, deadLetters: null }, 'the runner\'s state, the count unknown');
    t.ok(took < 10_000, `in ${took} ms`);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release();
  }
});
