// The runner's ctx.state (connectors/sdk/state.ts): one row per connector and key in the shared
// PostgreSQL. compareAndSet is a single conditional statement, atomic across runner replicas;
// jsonb equality ignores key order, like the SDK's in-memory version.
import type { Database } from '../platform/database.js';
import { checkStateKey, stateValueJson, type ConnectorState } from '@lgsp/sdk/state';

export function connectorStateStore(db: Database, connector: string): ConnectorState {
  return {
    async get<T>(key: string) {
      checkStateKey(key);
      const { rows } = await db.query<{ value: T }>('SELECT value FROM connector_state_entries WHERE connector = $1 AND key = $2', [connector, key]);
      return rows[0]?.value;
    },
    async set(key, value) {
      checkStateKey(key);
      await db.query(
        `INSERT INTO connector_state_entries (connector, key, value) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (connector, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
        [connector, key, stateValueJson(value)],
      );
    },
    async compareAndSet(key, expected, next) {
      checkStateKey(key);
      const json = stateValueJson(next);
      const result = expected === undefined
        ? await db.query('INSERT INTO connector_state_entries (connector, key, value) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING', [connector, key, json])
        : await db.query('UPDATE connector_state_entries SET value = $3::jsonb, updated_at = now() WHERE connector = $1 AND key = $2 AND value = $4::jsonb', [connector, key, json, stateValueJson(expected)]);
      return result.rowCount === 1;
    },
    async delete(key) {
      checkStateKey(key);
      await db.query('DELETE FROM connector_state_entries WHERE connector = $1 AND key = $2', [connector, key]);
    },
  };
}
