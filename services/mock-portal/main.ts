// Runs the mock National Public Service Portal (part of `npm start`; also usable alone).
// Configuration from the environment; anything invalid stops it naming the variable.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../platform/logger.js';
import { PROJECT_ROOT } from '../platform/project-root.js';
import type { DevClientFile } from '../platform/bus-client.js';
import { buildMockPortal } from './portal-app.js';
import { ProcedureCatalogue } from './procedure-catalogue.js';

function fail(message: string): never {
  console.error(`mock portal: ${message}`);
  process.exit(1);
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) fail(`${name} is required`);
  return v;
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) fail(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

const busUrl = process.env.MOCK_PORTAL_BUS_URL;
const clientFile = process.env.MOCK_PORTAL_BUS_CLIENT_FILE;
if (Boolean(busUrl) !== Boolean(clientFile)) fail('set both MOCK_PORTAL_BUS_URL and MOCK_PORTAL_BUS_CLIENT_FILE (or neither, to keep online dossiers at the portal)');
let credentials: DevClientFile | undefined;
if (clientFile) {
  if (!existsSync(clientFile)) fail(`MOCK_PORTAL_BUS_CLIENT_FILE ${clientFile} does not exist`);
  credentials = JSON.parse(readFileSync(clientFile, 'utf8')) as DevClientFile;
}

const log = createLogger('mock-portal', process.env.LOG_LEVEL ?? 'info');
const portal = await buildMockPortal({
  // The portal is a separate product part: MOCK_PORTAL_DATABASE_URL gives it a database of its
  // own; by default its portal_* tables sit next to the bus's.
  databaseUrl:
    process.env.MOCK_PORTAL_DATABASE_URL ||
    process.env.DATABASE_URL ||
    fail('MOCK_PORTAL_DATABASE_URL (or DATABASE_URL) is required: the PostgreSQL database the mock portal keeps its portal_* tables in, e.g. postgres://user:password@127.0.0.1:5432/portal'),
  accounts: [{ username: required('MOCK_PORTAL_USERNAME'), password: required('MOCK_PORTAL_PASSWORD') }],
  procedures: ProcedureCatalogue.load(process.env.MOCK_PORTAL_PROCEDURES ?? join(PROJECT_ROOT, 'seeds', 'procedures.json')),
  sessionTtlSeconds: integer('MOCK_PORTAL_SESSION_TTL_SECONDS', 1800),
  busTarget: busUrl && credentials ? { gatewayUrl: busUrl, credentials } : null,
  log,
});
const url = await portal.app.listen({ port: integer('PORT', 0), host: process.env.HOST ?? '127.0.0.1' });
console.log(`mock National Public Service Portal listening on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void portal.app.close().then(() => process.exit(0)));
