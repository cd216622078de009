// A bus with the one-stop-shop connector wired to an in-process mock National Public Service
// Portal, for the dossier tests: the portal can be stopped and restarted on the same port with
// the same SQLite file (an outage), its fault knobs set, and its own view read back.
import { join } from 'node:path';
import type { BusConfig } from '../../services/platform/config.js';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import { buildMockPortal, type MockPortal } from '../../services/mock-portal/portal-app.js';
import { createTestDatabase } from './test-database.js';
import { ProcedureCatalogue } from '../../services/mock-portal/procedure-catalogue.js';
import { startTestBus, eventually, type TestBus } from './test-bus.js';

export const PORTAL_ACCOUNT = { username: 'lgsp-h49-test', password: 'mật khẩu kiểm thử' };
export const PORTAL_MEMBER = '000.00.00.G22';
export const SO_TP = '000.00.15.H49';

export interface PortalDossierView {
  agency: string;
  dossierCode: string;
  status: string;
  source: string;
  copies: number;
  submissions: number;
  progressUpdates: number;
  statusHistory: { status: string; handledAt: string | null; via: string }[];
  record: Record<string, unknown>;
  handover?: { deliveredAt: string | null; messageId: string | null };
}

export interface DossierBus {
  bus: TestBus;
  portal(): MockPortal;
  portalUrl: string;
  /** The portal's own view of what it holds (GET /_admin/dossiers). */
  portalDossiers(query?: Record<string, string>): Promise<PortalDossierView[]>;
  setFaults(faults: Record<string, unknown>): Promise<void>;
  stopPortal(): Promise<void>;
  startPortal(): Promise<void>;
  syncPayload(code: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  progressPayload(code: string, previousStatus: string, status: string, handledAt: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Submits through the gateway as a one-stop-shop system, correlation id = dossier code. */
  send(type: 'dossier.sync' | 'dossier.progress', payload: Record<string, unknown>, clientId?: string, idempotencyKey?: string): Promise<string>;
  waitStatus(id: string, wanted: string, timeoutMs?: number): Promise<{ status: string; events: { event: string; at: string; detail?: Record<string, any> }[] }>;
}

const procedures = ProcedureCatalogue.load(join(PROJECT_ROOT, 'seeds', 'procedures.json'));

export async function startDossierBus(t: { teardown(fn: () => unknown): void }, name: string, config: Partial<BusConfig> = {}): Promise<DossierBus> {
  // The portal is a separate product part: a database of its own, as it may have in production.
  const portalDatabase = await createTestDatabase(`${name}-portal`);
  let portal: MockPortal | null = null;
  let port = 0;
  const startPortal = async () => {
    portal = await buildMockPortal({ databaseUrl: portalDatabase.url, accounts: [PORTAL_ACCOUNT], procedures, handoverIntervalMs: 200 });
    const url = await portal.app.listen({ port, host: '127.0.0.1' });
    port = Number(new URL(url).port);
    if (bus) portal.setBusTarget({ gatewayUrl: bus.gateway.url, credentials: bus.clients.get('dvcqg-portal')! });
  };
  let bus: TestBus | null = null;
  await startPortal();
  const portalUrl = `http://127.0.0.1:${port}`;
  bus = await startTestBus(t, {
    name,
    connectors: ['one-stop-shop'],
    connectorConfig: { 'one-stop-shop': { portalUrl, username: PORTAL_ACCOUNT.username, requestTimeoutMs: 5000 } },
    connectorSecrets: { 'one-stop-shop': { portalPassword: PORTAL_ACCOUNT.password } },
    // Short delays keep the file fast; the retry budget is the connector's own (its manifest
    // asks for more attempts than the test bus's default of 3).
    config: { retryBaseDelayMs: 50, retryMaxDelayMs: 1500, ...config },
  });
  portal!.setBusTarget({ gatewayUrl: bus.gateway.url, credentials: bus.clients.get('dvcqg-portal')! });
  t.teardown(async () => {
    await bus!.stop();
    await portal?.app.close();
    await portalDatabase.drop();
  });

  // One client (and so one cached token) per client id: dozens of status polls in parallel must
  // not each ask the token endpoint, whose per-address limit would then refuse them (429).
  const clients = new Map<string, ReturnType<TestBus['client']>>();
  const clientOf = (clientId: string) => {
    let c = clients.get(clientId);
    if (!c) clients.set(clientId, (c = bus!.client(clientId)));
    return c;
  };
  const self: DossierBus = {
    bus,
    portal: () => portal!,
    portalUrl,
    async portalDossiers(query = {}) {
      const r = await fetch(`${portalUrl}/_admin/dossiers?${new URLSearchParams(query)}`);
      return ((await r.json()) as { dossiers: PortalDossierView[] }).dossiers;
    },
    async setFaults(faults) {
      const r = await fetch(`${portalUrl}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
      if (r.status !== 200) throw new Error(`faults refused: ${await r.text()}`);
    },
    async stopPortal() {
      await portal?.app.close();
      portal = null;
    },
    startPortal,
    syncPayload: (code, overrides = {}) => ({
      dossierCode: code,
      procedureCode: '1.001234',
      procedureName: 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam',
      sectorCode: 'LLTP',
      applicant: { name: 'Nguyễn Văn An', kind: 'citizen', idNumber: '049090001234' },
      summary: 'Đề nghị cấp Phiếu lý lịch tư pháp số 1',
      receivedAt: '2026-01-15T08:30:00+07:00',
      dueAt: '2026-01-29T17:00:00+07:00',
      status: 'registered',
      documents: [{ id: 'TL-0001', name: 'Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp', componentCode: 'TP-LLTP-01' }],
      fees: [{ code: 'LP-LLTP', name: 'Phí cung cấp thông tin lý lịch tư pháp', amount: 200000, kind: 'fee', paymentMethod: 'online' }],
      ...overrides,
    }),
    progressPayload: (code, previousStatus, status, handledAt, overrides = {}) => ({
      dossierCode: code,
      previousStatus,
      status,
      handledAt,
      handler: { name: 'Trần Thị Bình', position: 'Chuyên viên', department: 'Phòng Hành chính tư pháp' },
      note: `Chuyển sang ${status}`,
      ...overrides,
    }),
    async send(type, payload, clientId = 'so-tp-motcua', idempotencyKey) {
      const service = 'dvcqg-dossier';
      const r = await clientOf(clientId).send({ type, to: { member: PORTAL_MEMBER, service }, correlationId: String(payload.dossierCode), payload }, idempotencyKey);
      if (r.status !== 202) throw new Error(`${type} refused: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id as string;
    },
    waitStatus: (id, wanted, timeoutMs = 30_000) =>
      eventually(async () => {
        const r = await clientOf('lgsp-operator').status(id);
        return r.body.status === wanted ? r.body : null;
      }, timeoutMs),
  };
  return self;
}
