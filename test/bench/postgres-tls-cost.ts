// What TLS to PostgreSQL costs the bus, measured on two local servers started here (one with TLS,
// one without; same binaries, same settings): a new connection (TCP + TLS handshake + SCRAM +
// first statement), and statements on an already open pooled connection, which is what the
// services do nearly all the time (pools of up to 10 connections, kept 30 s idle).
//   npm run build && node dist/test/bench/postgres-tls-cost.js [--connections 40] [--statements 4000]
// Figures on a busy machine are indicative only.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startLocalPostgres, type LocalPostgres } from '../../services/local-postgres/local-postgres.js';
import { databaseClientConfig } from '../../services/platform/database-connection.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '40' }, statements: { type: 'string', default: '4000' } } });
const CONNECTIONS = Number(values.connections);
const STATEMENTS = Number(values.statements);

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function measure(server: LocalPostgres): Promise<{ connectMs: number; connectP95Ms: number; statementUs: number; perSecond: number }> {
  const config = databaseClientConfig(server.url);
  const connects: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const t0 = process.hrtime.bigint();
    const c = new pg.Client(config);
    await c.connect();
    await c.query('SELECT 1');
    connects.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await c.end();
  }
  const pool = new pg.Pool({ ...config, max: 10 });
  await pool.query('CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, body text)');
  await Promise.all(Array.from({ length: 10 }, () => pool.query('SELECT 1'))); // open the pool first
  const body = 'x'.repeat(1024);
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next++ < STATEMENTS) await pool.query('INSERT INTO bench_rows (body) VALUES ($1) RETURNING id', [body]);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.end();
  return { connectMs: quantile(connects, 0.5), connectP95Ms: quantile(connects, 0.95), statementUs: (seconds / STATEMENTS) * 1e6, perSecond: STATEMENTS / seconds };
}

const plain = await startLocalPostgres({ plaintext: true });
const tls = await startLocalPostgres();
try {
  // Alternated twice, so a burst of load elsewhere hits both.
  const runs = { plaintext: [] as Awaited<ReturnType<typeof measure>>[], tls: [] as Awaited<ReturnType<typeof measure>>[] };
  for (let round = 0; round < 2; round++) {
    runs.plaintext.push(await measure(plain));
    runs.tls.push(await measure(tls));
  }
  for (const [name, rs] of Object.entries(runs)) {
    const best = (k: keyof (typeof rs)[number]) => Math.min(...rs.map((r) => r[k]));
    console.log(
      `${name.padEnd(9)} new connection p50 ${best('connectMs').toFixed(1)} ms p95 ${best('connectP95Ms').toFixed(1)} ms; ` +
        `pooled 1 KiB insert ${best('statementUs').toFixed(0)} µs each (${Math.max(...rs.map((r) => r.perSecond)).toFixed(0)}/s, 10 connections)`,
    );
  }
} finally {
  await Promise.all([plain.stop(), tls.stop()]);
}
