// Demo one-stop-shop systems (Một cửa điện tử) of the seeded agencies, so `npm start` shows
// dossier traffic both ways: they receive dossiers at the counter and keep the National Public
// Service Portal in sync (dossier.sync, then dossier.progress step by step to "returned"),
// citizens file online at the (mock) portal, the dossiers the portal hands to the province show
// up in the systems' inboxes (the agency simulator) and are accepted and processed in turn, and
// now and then a system asks the portal what it holds (dossier.lookup through POST /v1/requests).
// Everything goes through the gateway with each system's own dev credentials.
import { BusClient, type ClientCredentials } from '../platform/bus-client.js';
import type { Procedure } from '../mock-portal/procedure-catalogue.js';

export interface OneStopSystem {
  clientId: string;
  member: string;
  credentials: ClientCredentials;
}

export interface SimulatorOptions {
  gatewayUrl: string;
  portalUrl: string;
  /** Where the systems' deliveries land (agency simulator), read to find portal-filed dossiers. */
  inboxUrl: string;
  systems: OneStopSystem[];
  procedures: Procedure[];
  /** Providing member of the portal services in the registry. */
  portalMember: string;
  intervalMs: number;
  log: (line: string) => void;
}

type Status = 'registered' | 'accepted' | 'processing' | 'supplement_requested' | 'processed' | 'returned';

interface OpenDossier {
  code: string;
  system: OneStopSystem;
  status: Status;
  online: boolean;
}

/** The happy path, with an occasional request for documents on the way. */
function nextStatus(status: Status, random: () => number): Status | null {
  switch (status) {
    case 'registered':
      return 'accepted';
    case 'accepted':
      return 'processing';
    case 'processing':
      return random() < 0.15 ? 'supplement_requested' : 'processed';
    case 'supplement_requested':
      return 'processing';
    case 'processed':
      return 'returned';
    case 'returned':
      return null;
  }
}

// Demo applicants (dữ liệu mẫu), none of them real people.
const APPLICANTS = ['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Phạm Thị Dung', 'Hoàng Văn Em', 'Võ Thị Phượng', 'Đặng Văn Giang'];

export class OneStopSimulator {
  readonly open: OpenDossier[] = [];
  readonly counts = { filed: 0, progressed: 0, returned: 0, filedOnline: 0, receivedFromPortal: 0, lookups: 0, errors: 0 };
  lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private tick = 0;
  private running: Promise<void> | null = null;
  private readonly seenInbox = new Set<string>();
  private readonly clients = new Map<string, BusClient>();

  constructor(
    private readonly opts: SimulatorOptions,
    private readonly random: () => number = Math.random,
  ) {
    for (const s of opts.systems) this.clients.set(s.clientId, new BusClient(opts.gatewayUrl, s.credentials));
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.step()
        .catch((err: Error) => this.failed(err.message))
        .finally(() => (this.running = null));
    }, this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private failed(message: string): void {
    this.counts.errors++;
    this.lastError = message;
    this.opts.log(`error: ${message}`);
  }

  private pick<T>(list: T[]): T {
    return list[Math.floor(this.random() * list.length)];
  }

  /** One round: collect portal-filed dossiers, then one counter action, sometimes an online filing or a lookup. */
  async step(): Promise<void> {
    this.tick++;
    await this.collectFromPortal();
    const system = this.opts.systems[this.tick % this.opts.systems.length];
    const mine = this.open.filter((d) => d.system === system);
    if (mine.length < 3 || this.random() < 0.3) await this.fileAtCounter(system);
    else await this.progress(this.pick(mine));
    if (this.tick % 3 === 0) await this.fileOnline();
    if (this.tick % 5 === 0 && this.open.length > 0) await this.lookup(this.pick(this.open));
  }

  private async fileAtCounter(system: OneStopSystem): Promise<void> {
    const procedures = this.opts.procedures.filter((p) => p.agencies.includes(system.member));
    if (procedures.length === 0) return;
    const procedure = this.pick(procedures);
    const now = Date.now();
    const code = `${system.member}-${new Date(now + 7 * 3600_000).toISOString().slice(2, 10).replace(/-/g, '')}-${now.toString(36).toUpperCase()}`;
    const payload = {
      dossierCode: code,
      procedureCode: procedure.code,
      procedureName: procedure.name,
      sectorCode: procedure.sector.code,
      applicant: { name: this.pick(APPLICANTS), kind: 'citizen' },
      summary: `${procedure.name} (hồ sơ mẫu)`,
      receivedAt: new Date(now).toISOString(),
      dueAt: new Date(now + procedure.processingDays * 86_400_000).toISOString(),
      status: 'accepted',
      documents: (procedure.documents ?? []).map((d, i) => ({ id: `${code}-TL${i + 1}`, name: d.name, componentCode: d.componentCode })),
      fees: procedure.fees.map((f) => ({ ...(f.code ? { code: f.code } : {}), name: f.name, amount: f.amount, kind: f.kind, paymentMethod: 'cash' })),
    };
    const r = await this.clients.get(system.clientId)!.send({ type: 'dossier.sync', to: { member: this.opts.portalMember, service: 'dvcqg-dossier' }, correlationId: code, payload });
    if (r.status !== 202) return this.failed(`${system.clientId} dossier.sync ${code}: ${r.status} ${r.body?.code ?? ''}`);
    this.open.push({ code, system, status: 'accepted', online: false });
    this.counts.filed++;
    this.opts.log(`${system.clientId}: counter dossier ${code} (${procedure.code}) → dossier.sync accepted`);
  }

  private async progress(dossier: OpenDossier): Promise<void> {
    const status = nextStatus(dossier.status, this.random);
    if (!status) return;
    const now = new Date().toISOString();
    const payload = {
      dossierCode: dossier.code,
      previousStatus: dossier.status,
      status,
      handledAt: now,
      handler: { name: 'Cán bộ một cửa (mẫu)', position: 'Chuyên viên' },
      note: `Chuyển trạng thái: ${status}`,
      ...(status === 'returned' ? { returnedAt: now } : {}),
    };
    const r = await this.clients.get(dossier.system.clientId)!.send({ type: 'dossier.progress', to: { member: this.opts.portalMember, service: 'dvcqg-dossier' }, correlationId: dossier.code, payload });
    if (r.status !== 202) return this.failed(`${dossier.system.clientId} dossier.progress ${dossier.code}: ${r.status} ${r.body?.code ?? ''}`);
    this.opts.log(`${dossier.system.clientId}: ${dossier.code} ${dossier.status} → ${status}`);
    dossier.status = status;
    this.counts.progressed++;
    if (status === 'returned') {
      this.open.splice(this.open.indexOf(dossier), 1);
      this.counts.returned++;
    }
  }

  /** A citizen files a dossier online at the portal, which hands it to the responsible agency. */
  private async fileOnline(): Promise<void> {
    const served = new Set(this.opts.systems.map((s) => s.member));
    const procedures = this.opts.procedures.filter((p) => p.agencies.some((a) => served.has(a)));
    if (procedures.length === 0) return;
    const procedure = this.pick(procedures);
    const r = await fetch(`${this.opts.portalUrl}/citizen/dossiers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ MaTTHC: procedure.code, ChuHoSo: this.pick(APPLICANTS), LoaiDoiTuong: '1', TrichYeuHoSo: `Nộp trực tuyến: ${procedure.name}` }),
    });
    const body = (await r.json().catch(() => ({}))) as { error_code?: string; MaHoSo?: string; MaDonVi?: string };
    if (body.error_code !== '0') return this.failed(`online filing refused by the portal: ${body.error_code}`);
    this.counts.filedOnline++;
    this.opts.log(`citizen: filed ${body.MaHoSo} online at the portal for ${body.MaDonVi}`);
  }

  /** Dossiers the portal handed over (dossier.submitted deliveries) join the systems' work. */
  private async collectFromPortal(): Promise<void> {
    for (const system of this.opts.systems) {
      const r = await fetch(`${this.opts.inboxUrl}/_admin/systems/${encodeURIComponent(system.clientId)}/received`).catch(() => null);
      if (!r?.ok) continue;
      const { messages } = (await r.json()) as { messages: { id: string; type: string; correlationId: string }[] };
      for (const m of messages) {
        if (m.type !== 'dossier.submitted' || this.seenInbox.has(m.id)) continue;
        this.seenInbox.add(m.id);
        this.open.push({ code: m.correlationId, system, status: 'registered', online: true });
        this.counts.receivedFromPortal++;
        this.opts.log(`${system.clientId}: received online dossier ${m.correlationId} from the portal`);
      }
    }
  }

  private async lookup(dossier: OpenDossier): Promise<void> {
    const r = await this.clients.get(dossier.system.clientId)!.request(
      'POST',
      '/v1/requests',
      { type: 'dossier.lookup', to: { member: this.opts.portalMember, service: 'dvcqg-lookup' }, correlationId: dossier.code, payload: { dossierCode: dossier.code } },
      { prefer: 'wait=5' },
    );
    this.counts.lookups++;
    if (r.status === 200) this.opts.log(`${dossier.system.clientId}: lookup ${dossier.code} → portal status ${r.body.reply?.dossier?.status ?? 'not found'}`);
    else this.opts.log(`${dossier.system.clientId}: lookup ${dossier.code} → ${r.status} ${r.body?.code ?? ''}`);
  }
}
