// `lgsp db migrate [--database URL]`: applies the pending schema migrations as the schema owner
// and re-applies every service role's grants (platform_role_grants). With a role per service the
// services cannot create tables: this is the step a deployment runs first (a Kubernetes Job, a
// release task), with the owner's URL; the services then start under their own roles. Run it
// again after creating roles the owner could not create itself.
import pg from 'pg';
import { loadConfig } from '../platform/config.js';
import { databaseClientConfig, explainConnectionError } from '../platform/database-connection.js';
import { migrateDatabase } from '../platform/migrations.js';
import { stackDatabaseUrl } from '../stack/stack-database.js';
import { parseCommandArgs, UsageError } from './cli-args.js';
import type { CommandOutput } from '../audit/verify-command.js';

export const DB_USAGE = `usage: lgsp db migrate [--database URL]
Applies pending migrations and the service roles' grants as the schema owner. The URL defaults to
DATABASE_URL, then to the PostgreSQL that npm start runs (.lgsp/dev/stack.json).`;

export async function runDbCommand(argv: string[], out: CommandOutput = console): Promise<number> {
  const [sub, ...rest] = argv;
  let databaseUrl: string | undefined;
  try {
    if (sub !== 'migrate') throw new UsageError(`unknown db command "${sub ?? ''}"`);
    const { values, positionals } = parseCommandArgs(rest, { database: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    databaseUrl = values.database;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.error(`lgsp db: ${err.message}\n${DB_USAGE}`);
    return 2;
  }
  try {
    if (!databaseUrl) {
      const config = loadConfig();
      databaseUrl = config.databaseUrl || stackDatabaseUrl(config.dataDir);
    }
    if (!databaseUrl) {
      out.error(`lgsp db migrate: no database: set DATABASE_URL or pass --database <url>\n${DB_USAGE}`);
      return 2;
    }
    // Named, so an upgrade's log says what changed in the schema (and a second run that nothing did).
    const applied = await migrateDatabase(databaseUrl);
    for (const name of applied) out.log(`applied migration ${name}`);
    const client = new pg.Client(databaseClientConfig(databaseUrl, { application_name: 'lgsp-db-migrate' }));
    client.on('error', () => undefined);
    try {
      await client.connect().catch((err: unknown) => Promise.reject(explainConnectionError(err, databaseUrl!)));
      await client.query('SELECT platform_apply_role_grants()');
      const { rows } = await client.query<{ role: string }>(
        'SELECT DISTINCT role FROM platform_role_grants WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role) ORDER BY role',
      );
      out.log(`schema up to date; grants applied to ${rows.length > 0 ? rows.map((r) => r.role).join(', ') : 'no role (none exists: see docs/operator-guide.md, PostgreSQL)'}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    return 0;
  } catch (err) {
    out.error(`lgsp db migrate: ${(err as Error).message}`);
    return 1;
  }
}
