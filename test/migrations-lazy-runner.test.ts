// A service starting on an up-to-date schema does not load node-pg-migrate (nor jiti and glob
// behind it: 3.6 MB of heap for the process's life); one finding migrations pending does.
// Checked in a child process on the compiled code, watching every module it resolves.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { createTestDatabase } from './helpers/test-database.js';

const run = promisify(execFile);
const MIGRATIONS = pathToFileURL(join(PROJECT_ROOT, 'dist', 'services', 'platform', 'migrations.js')).href;
const SCRIPT = `
import { registerHooks } from 'node:module';
const resolved = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.push(r.url); return r; } });
const { migrateDatabase } = await import(${JSON.stringify(MIGRATIONS)});
const applied = await migrateDatabase(process.env.DATABASE_URL);
console.log(JSON.stringify({ applied: applied.length, loadedMigrator: resolved.some((u) => u.includes('/node-pg-migrate/')) }));
`;

async function migrateInChild(url: string): Promise<{ applied: number; loadedMigrator: boolean }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], { env: { ...process.env, DATABASE_URL: url }, cwd: PROJECT_ROOT });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { applied: number; loadedMigrator: boolean };
}

t.test('node-pg-migrate is loaded only when migrations are pending', async (t) => {
  const database = await createTestDatabase('lazy-migrator');
  t.teardown(() => database.drop());
  const first = await migrateInChild(database.url);
  t.ok(first.applied > 0, 'a fresh database gets every migration');
  t.equal(first.loadedMigrator, true, 'and the migrator is loaded to apply them');
  const second = await migrateInChild(database.url);
  t.same(second, { applied: 0, loadedMigrator: false }, 'an up-to-date schema: the migrator is never loaded');
});
