// Runs the demo one-stop-shop systems (part of `npm start`). The systems are those the registry
// lets sync dossiers to the portal; each uses its dev credentials from <data dir>/clients.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { PROJECT_ROOT } from '../platform/project-root.js';
import type { RegistryData } from '../platform/registry.js';
import type { DevClientFile } from '../platform/bus-client.js';
import { ProcedureCatalogue } from '../mock-portal/procedure-catalogue.js';
import { OneStopSimulator, type OneStopSystem } from './one-stop-simulator.js';
import { controlProblems } from '../platform/control-problems.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`one-stop simulator: ${name} is required`);
    process.exit(1);
  }
  return v;
}

const dataDir = resolve(process.env.LGSP_DATA_DIR ?? '.lgsp/dev');
const registry = JSON.parse(readFileSync(process.env.LGSP_REGISTRY_FILE ?? join(dataDir, 'registry.json'), 'utf8')) as RegistryData;
const portalService = registry.services.find((s) => s.code === 'dvcqg-dossier');
if (!portalService) {
  console.error('one-stop simulator: the registry has no dvcqg-dossier service');
  process.exit(1);
}
const systems: OneStopSystem[] = registry.accessRights
  .filter((ar) => ar.service === 'dvcqg-dossier')
  .map((ar) => registry.systems.find((s) => s.clientId === ar.client))
  .filter((s): s is NonNullable<typeof s> => s !== undefined && existsSync(join(dataDir, 'clients', `${s.clientId}.json`)))
  .map((s) => ({ clientId: s.clientId, member: s.member, credentials: JSON.parse(readFileSync(join(dataDir, 'clients', `${s.clientId}.json`), 'utf8')) as DevClientFile }));

const simulator = new OneStopSimulator({
  gatewayUrl: required('LGSP_ISSUER'),
  portalUrl: required('ONE_STOP_SIM_PORTAL_URL'),
  inboxUrl: required('ONE_STOP_SIM_INBOX_URL'),
  systems,
  procedures: ProcedureCatalogue.load(join(PROJECT_ROOT, 'seeds', 'procedures.json')).procedures,
  portalMember: portalService.provider,
  intervalMs: Number(process.env.ONE_STOP_SIM_INTERVAL_MS ?? 4000),
  log: (line) => console.log(line),
});

const app = Fastify({ logger: false });
// Its refusals (an unknown path) are problem+json, as the bus answers.
controlProblems(app);
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/_admin/state', async () => ({
  systems: systems.map((s) => s.clientId),
  counts: simulator.counts,
  lastError: simulator.lastError,
  open: simulator.open.map((d) => ({ dossierCode: d.code, system: d.system.clientId, status: d.status, online: d.online })),
}));
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
simulator.start();
console.log(`one-stop-shop simulator listening on ${url} (${systems.map((s) => s.clientId).join(', ')})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void simulator.stop().then(() => app.close()).then(() => process.exit(0)));
