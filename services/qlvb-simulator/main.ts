// Runs the demo QLVB systems (part of `npm start`): every seeded system whose clientId is in
// LGSP_QLVB_SYSTEMS (default: all QLVB systems except the provincial office's, which is left
// for a person to drive with curl), with the delivery mode and format the registry gives it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet } from 'jose';
import { loadConfig } from '../platform/config.js';
import type { RegistryData } from '../platform/registry.js';
import type { DevClientFile } from '../platform/bus-client.js';
import { QlvbSimulator, type SimulatedSystem } from './qlvb-simulator.js';

const DEFAULT_SYSTEMS = 'so-tttt-qlvb,so-tp-qlvb,so-khdt-qlvb,xa-hoaphuoc-qlvb';

const config = loadConfig();
const registry = JSON.parse(readFileSync(config.registryFile, 'utf8')) as RegistryData;
const wanted = (process.env.LGSP_QLVB_SYSTEMS ?? DEFAULT_SYSTEMS).split(',').map((s) => s.trim()).filter(Boolean);
const systems: SimulatedSystem[] = [];
for (const clientId of wanted) {
  const system = registry.systems.find((s) => s.clientId === clientId);
  if (!system) throw new Error(`LGSP_QLVB_SYSTEMS names ${clientId}, which is not in the registry`);
  const credentials = JSON.parse(readFileSync(join(config.dataDir, 'clients', `${clientId}.json`), 'utf8')) as DevClientFile;
  systems.push({
    clientId,
    member: system.member,
    organName: registry.members.find((m) => m.code === system.member)?.name ?? system.member,
    mode: system.documentDelivery?.mode ?? 'push',
    format: system.documentDelivery?.format ?? 'json',
    shape: system.documentDelivery?.edxmlShape ?? 'sdk',
    credentials,
  });
}
const simulator = new QlvbSimulator({
  gatewayUrl: config.issuer,
  getKey: createRemoteJWKSet(new URL(`${config.issuer}/.well-known/jwks.json?purpose=delivery`)),
  systems,
  answerDelayMs: Number(process.env.LGSP_QLVB_ANSWER_DELAY_MS ?? 1500),
  pollIntervalMs: Number(process.env.LGSP_QLVB_POLL_INTERVAL_MS ?? 2000),
});
const url = await simulator.app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
simulator.startPolling();
console.log(`QLVB simulator listening on ${url} (${systems.map((s) => `${s.clientId}: ${s.mode}/${s.format}`).join(', ')})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void simulator.stop().then(() => process.exit(0)));
