// `--pg-statements`: where PostgreSQL's share of a message goes, statement by statement. The
// bench's own server preloads pg_stat_statements; the counters are reset before a phase and read
// after it, as execution time, calls, rows and shared blocks dirtied per delivered message, with
// each updated table's share of HOT updates. What the bench's process-tree CPU figure for
// PostgreSQL cannot say: which statement (and so which table and its indexes) costs what.
// Execution time only: parsing, the protocol and commits (WAL flushes) are outside it, and show
// in the process tree's figure.
import pg from 'pg';
import { databaseClientConfig } from '../../services/platform/database-connection.js';

/** Server settings that make the statistics available (the module must be loaded at start). */
export const STATEMENT_STATISTICS_SETTINGS: Record<string, string> = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track': 'all',
  'pg_stat_statements.max': '1000',
};

export interface StatementCost {
  statement: string;
  callsPerMessage: number;
  rowsPerMessage: number;
  execUsPerMessage: number;
  blocksDirtiedPerMessage: number;
}

export class StatementCosts {
  private constructor(private readonly client: pg.Client) {}

  /** Connects as the server's owner (the extension and its reset need it). */
  static async open(ownerUrl: string): Promise<StatementCosts> {
    const client = new pg.Client(databaseClientConfig(ownerUrl));
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    return new StatementCosts(client);
  }

  async reset(): Promise<void> {
    await this.client.query('SELECT pg_stat_statements_reset()');
    // This database's table counters too (updates and how many of them were HOT).
    await this.client.query('SELECT pg_stat_reset()');
  }

  /** Tables updated since the last reset: updates per message and the share that were HOT (no index entries written). */
  async updatesPerMessage(messages: number): Promise<Array<{ table: string; updatesPerMessage: number; hotShare: number }>> {
    // The counters reach the view at the end of each transaction, flushed within a second.
    await new Promise((r) => setTimeout(r, 1500));
    const { rows } = await this.client.query<{ relname: string; upd: string; hot: string }>(
      'SELECT relname, n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE n_tup_upd > 0 ORDER BY n_tup_upd DESC',
    );
    return rows.map((r) => ({
      table: r.relname,
      updatesPerMessage: Math.round((Number(r.upd) / Math.max(1, messages)) * 1000) / 1000,
      hotShare: Math.round((Number(r.hot) / Math.max(1, Number(r.upd))) * 1000) / 1000,
    }));
  }

  /** The `top` statements by execution time since the last reset, per delivered message. */
  async perMessage(messages: number, top = 15): Promise<{ totalExecUsPerMessage: number; statements: StatementCost[] }> {
    const { rows } = await this.client.query<{ query: string; calls: string; rows: string; exec_ms: number; dirtied: string }>(
      `SELECT query, calls, rows, total_exec_time AS exec_ms, shared_blks_dirtied AS dirtied
         FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC`,
    );
    const per = (n: number) => Math.round((n / Math.max(1, messages)) * 1000) / 1000;
    const totalExecMs = rows.reduce((sum, r) => sum + Number(r.exec_ms), 0);
    return {
      totalExecUsPerMessage: per(totalExecMs * 1000),
      statements: rows.slice(0, top).map((r) => ({
        statement: r.query.replace(/\s+/g, ' ').slice(0, 160),
        callsPerMessage: per(Number(r.calls)),
        rowsPerMessage: per(Number(r.rows)),
        execUsPerMessage: per(Number(r.exec_ms) * 1000),
        blocksDirtiedPerMessage: per(Number(r.dirtied)),
      })),
    };
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
