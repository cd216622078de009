// Dossiers citizens file online at the portal, and their hand-over to the province. A filing
// is stored and queued in one transaction (outbox); a background pass hands each queued
// dossier to the bus as `dossier.submitted` for the responsible agency's one-stop-shop system,
// acting as the bus member system `dvcqg-portal`, with the dossier code as Idempotency-Key so a
// hand-over repeated after a lost answer is still one message. The hand-over payload is built
// by the portal's own code (online-handover.ts), not the one-stop-shop connector's mapping, so
// the connector's mapping can be tested against what the portal really sends.
import type { Logger } from '../platform/logger.js';
import { BusClient, type ClientCredentials } from '../platform/bus-client.js';
import { onlineHandover, type OnlineDossierRecord } from './online-handover.js';
import { PortalError } from './portal-codes.js';
import { checkOnlineFiling, formatPortalDate } from './portal-rules.js';
import type { ProcedureCatalogue } from './procedure-catalogue.js';
import type { PortalStore } from './portal-store.js';

export interface BusTarget {
  gatewayUrl: string;
  credentials: ClientCredentials;
  /** Service code of the agencies' intake service in the bus registry. */
  intakeService?: string;
}

const DAY_MS = 86_400_000;
const MAX_BACKOFF_MS = 30_000;

export class OnlineFiling {
  private timer: NodeJS.Timeout | null = null;
  private pushing: Promise<void> | null = null;
  private client: { key: string; bus: BusClient } | null = null;

  constructor(
    private readonly store: PortalStore,
    private readonly catalogue: ProcedureCatalogue,
    private readonly busTarget: () => BusTarget | null,
    private readonly log: Logger,
  ) {}

  /** Validates and stores a citizen's filing; returns the portal's record. Throws PortalError. */
  async file(input: Record<string, unknown>, now = Date.now()): Promise<{ agency: string; record: OnlineDossierRecord }> {
    const check = checkOnlineFiling(input, this.catalogue);
    if (check.errors.length > 0) throw new PortalError(check.unknownProcedure ? 'UNKNOWN_PROCEDURE' : 'INVALID_DATA', undefined, check.errors);
    const procedure = this.catalogue.find(String(input.MaTTHC))!;
    const agency = check.agency!;
    const optional = (k: string) => (typeof input[k] === 'string' && input[k] !== '' ? (input[k] as string).normalize('NFC') : undefined);
    const record: OnlineDossierRecord = {
      MaHoSo: await this.store.nextOnlineCode(agency, now),
      MaTTHC: String(input.MaTTHC),
      TenTTHC: procedure.name,
      MaLinhVuc: procedure.sector.code,
      ChuHoSo: String(input.ChuHoSo).normalize('NFC'),
      LoaiDoiTuong: String(input.LoaiDoiTuong),
      MaDoiTuong: optional('MaDoiTuong'),
      Email: optional('Email'),
      SoDienThoai: optional('SoDienThoai'),
      TrichYeuHoSo: optional('TrichYeuHoSo'),
      NgayTiepNhan: formatPortalDate(now),
      NgayHenTra: formatPortalDate(now + procedure.processingDays * DAY_MS),
      TrangThaiHoSo: '1',
      TaiLieuNop: ((input.TaiLieuNop as OnlineDossierRecord['TaiLieuNop'] | undefined) ?? []).map((d) => ({ ...d, TenTepDinhKem: String(d.TenTepDinhKem).normalize('NFC') })),
      DanhSachLePhi: procedure.fees.map((f) => ({ ...(f.code ? { MaPhiLePhi: f.code } : {}), TenPhiLePhi: f.name, Gia: f.amount, LoaiPhiLePhi: f.kind === 'fee' ? '1' : '2' })),
    };
    for (const key of Object.keys(record) as (keyof OnlineDossierRecord)[]) if (record[key] === undefined) delete record[key];
    await this.store.fileOnline(agency, record as unknown as Record<string, unknown>);
    void this.kick();
    return { agency, record };
  }

  start(intervalMs = 500): void {
    this.timer ??= setInterval(() => void this.kick(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pushing;
  }

  /** Starts a hand-over pass unless one is running; resolves when it is done (never rejects). */
  kick(): Promise<void> {
    this.pushing ??= this.pushDue()
      .catch((err: Error) => this.log.error({ err: err.message }, 'online hand-over pass failed; the next pass retries'))
      .finally(() => {
        this.pushing = null;
      });
    return this.pushing;
  }

  private bus(target: BusTarget): BusClient {
    const key = `${target.gatewayUrl}\u0000${target.credentials.clientId}`;
    if (this.client?.key !== key) this.client = { key, bus: new BusClient(target.gatewayUrl, target.credentials) };
    return this.client.bus;
  }

  private async pushDue(): Promise<void> {
    const target = this.busTarget();
    if (!target) return;
    for (const entry of await this.store.outboxDue(Date.now())) {
      const dossier = await this.store.get(entry.agency, entry.code);
      if (!dossier) continue;
      const retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** entry.attempts);
      let outcome: { status: number; body: { id?: string; code?: string; detail?: string } };
      try {
        const payload = onlineHandover(dossier.record as unknown as OnlineDossierRecord);
        outcome = await this.bus(target).send(
          { type: 'dossier.submitted', to: { member: entry.agency, service: target.intakeService ?? 'dossier-intake' }, correlationId: entry.code, payload },
          `dvcqg-${entry.code}`,
        );
      } catch (err) {
        await this.store.outboxFailed(entry.agency, entry.code, `bus unreachable: ${(err as Error).message}`, retryAt);
        continue;
      }
      if (outcome.status === 202 && outcome.body.id) {
        await this.store.outboxDelivered(entry.agency, entry.code, outcome.body.id);
        this.log.info({ dossier: entry.code, agency: entry.agency, messageId: outcome.body.id }, 'online dossier handed to the province');
      } else {
        const reason = `gateway answered ${outcome.status} ${outcome.body.code ?? ''} ${outcome.body.detail ?? ''}`.trim();
        const transient = outcome.status === 429 || outcome.status >= 500 || outcome.status === 401;
        await this.store.outboxFailed(entry.agency, entry.code, reason, transient ? retryAt : null);
        if (!transient) this.log.warn({ dossier: entry.code, agency: entry.agency, reason }, 'the province refused an online dossier');
      }
    }
  }
}
