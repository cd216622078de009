// The mock National Public Service Portal (Cổng Dịch vụ công quốc gia, DVCQG) as public
// integrations use it: log in for a session, then POST JSON calls naming a `service`:
//   POST /api/auth/login    {username, password} → {error_code, session}
//   POST /api/integration   {session, madonvi, service: DongBoHoSoMC | CapNhatTienDoHoSoMC, isUpdating?, data: [...]}
//   POST /api/share         {session, madonvi, service: TraCuuHoSo (mahoso) | LayDanhSachTTHC | LayThuTuc (maTTHC)}
// (either endpoint answers every service: clients differ in where they send lookups).
// Business refusals are HTTP 200 with a non-zero `error_code` (portal-codes.ts), as the real
// portal answers; faults injected through /_admin/faults use HTTP 429/5xx. Citizens file online
// through POST /citizen/dossiers. /_admin/* is the operator's and tests' window: fault knobs,
// what the portal received, the call log. It binds to loopback and has no authentication
// because it stands in for a system outside the province.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createLogger, type Logger } from '../platform/logger.js';
import { createMetricsRegistry, serviceHealth } from '../platform/service-health.js';
import { FaultInjector } from './fault-injector.js';
import { OnlineFiling, type BusTarget } from './online-filing.js';
import { PORTAL_CODES, PortalError } from './portal-codes.js';
import { AGENCY_CODE, DOSSIER_CODE, checkDossierItem, checkProgressItem } from './portal-rules.js';
import { PortalStore, type StoredDossier } from './portal-store.js';
import { openDatabase } from '../platform/database.js';
import { ProcedureCatalogue } from './procedure-catalogue.js';
import { SessionStore, type PortalAccount } from './session-store.js';
import { controlProblems, invalidControlBody, invalidControlQuery, sendControlProblem } from '../platform/control-problems.js';

export interface MockPortalOptions {
  /** PostgreSQL holding the portal's tables (portal_*): its own database, or the bus's. */
  databaseUrl: string;
  accounts: PortalAccount[];
  procedures: ProcedureCatalogue;
  /** Default session lifetime; the sessionTtlSeconds fault knob overrides it at run time. */
  sessionTtlSeconds?: number;
  busTarget?: BusTarget | null;
  log?: Logger;
  random?: () => number;
  /** Online dossiers are handed to the bus on this cadence (ms). */
  handoverIntervalMs?: number;
}

export interface CallRecord {
  at: string;
  endpoint: 'login' | 'integration' | 'share';
  service: string | null;
  httpStatus: number;
  errorCode: string | null;
  /** 'fault' = refused by a fault knob before handling; 'lost' = handled, answer lost. */
  outcome: 'ok' | 'refused' | 'fault' | 'lost';
  dossiers: string[];
}

export interface MockPortal {
  app: FastifyInstance;
  store: PortalStore;
  faults: FaultInjector;
  sessions: SessionStore;
  filing: OnlineFiling;
  calls: CallRecord[];
  setBusTarget(target: BusTarget | null): void;
}

const MAX_CALL_LOG = 5000;
const MAX_BATCH = 100;
const INTEGRATION_SERVICES = ['DongBoHoSoMC', 'CapNhatTienDoHoSoMC'];
const SHARE_SERVICES = ['TraCuuHoSo', 'LayDanhSachTTHC', 'LayThuTuc'];

type Body = Record<string, unknown>;

function asObject(body: unknown): Body {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new PortalError('INVALID_DATA', 'Nội dung yêu cầu phải là đối tượng JSON (the body must be a JSON object)');
  return body as Body;
}

function parseIsUpdating(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new PortalError('INVALID_DATA', undefined, [{ field: 'isUpdating', message: 'phải là true hoặc false (must be true or false)' }]);
}

function ok(extra: Body = {}): Body {
  return { error_code: PORTAL_CODES.OK.code, message: PORTAL_CODES.OK.message, ...extra };
}

/** TraCuuHoSo row: the stored record plus its processing history (QuaTrinhXuLy). */
async function lookupRow(store: PortalStore, d: StoredDossier): Promise<Body> {
  return {
    ...d.record,
    TrangThaiHoSo: d.status,
    QuaTrinhXuLy: (await store.history(d.agency, d.code)).map((h) => ({ TrangThai: h.status, ThoiDiemXuLy: h.handledAt ?? '', NoiDungXuLy: h.note ?? '' })),
  };
}

export async function buildMockPortal(opts: MockPortalOptions): Promise<MockPortal> {
  const log = opts.log ?? createLogger('mock-portal', 'warn');
  const db = await openDatabase(opts.databaseUrl, { applicationName: 'lgsp-mock-portal', onError: (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost; the pool reconnects') });
  const store = new PortalStore(db);
  const faults = new FaultInjector(opts.random);
  const sessions = new SessionStore(opts.accounts, () => faults.settings.sessionTtlSeconds ?? opts.sessionTtlSeconds ?? 1800);
  let busTarget = opts.busTarget ?? null;
  const filing = new OnlineFiling(store, opts.procedures, () => busTarget, log);
  const calls: CallRecord[] = [];
  const record = (c: Omit<CallRecord, 'at'>) => {
    calls.push({ at: new Date().toISOString(), ...c });
    if (calls.length > MAX_CALL_LOG) calls.splice(0, calls.length - MAX_CALL_LOG);
  };

  const app = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger, bodyLimit: 10 * 1024 * 1024 });
  // The portal's API answers errors in the portal's own shape (error_code, message), as DVCQG does;
  // the simulator's control endpoints (/_admin/…: fault knobs, its view of the dossiers) are not the
  // portal's and answer problem+json, as the bus does.
  controlProblems(app, {
    imitated: {
      error: (err: Error & { statusCode?: number }, req, reply) => {
        const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        if (status === 500) req.log.error({ err }, 'mock portal error');
        const kind = status === 500 ? 'SYSTEM_ERROR' : 'INVALID_DATA';
        return reply.code(status).send({ error_code: PORTAL_CODES[kind].code, message: status === 500 ? PORTAL_CODES.SYSTEM_ERROR.message : `${PORTAL_CODES.INVALID_DATA.message}: ${err.message}` });
      },
      notFound: (req, reply) => reply.code(404).send({ error_code: PORTAL_CODES.UNKNOWN_SERVICE.code, message: `${PORTAL_CODES.UNKNOWN_SERVICE.message}: ${req.method} ${req.url.split('?')[0]}` }),
    },
  });
  await app.register(serviceHealth, { metrics: createMetricsRegistry('mock-portal'), checks: { store: async () => ({ ok: true }) } });

  /** The shared path of every API call: faults first, then the handler, then maybe a lost answer. */
  async function apiCall(req: FastifyRequest, reply: FastifyReply, endpoint: CallRecord['endpoint'], handle: (body: Body) => Body | Promise<Body>): Promise<FastifyReply> {
    const service = typeof (req.body as Body | undefined)?.service === 'string' ? String((req.body as Body).service) : null;
    const dossiers = dossierCodesOf(req.body);
    const fault = await faults.before();
    if (fault) {
      const kind = fault.kind === 'burst' ? (fault.status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE') : 'SYSTEM_ERROR';
      record({ endpoint, service, httpStatus: fault.status, errorCode: PORTAL_CODES[kind].code, outcome: 'fault', dossiers });
      if (fault.retryAfterSeconds !== undefined) reply.header('Retry-After', String(fault.retryAfterSeconds));
      return reply.code(fault.status).send({ error_code: PORTAL_CODES[kind].code, message: PORTAL_CODES[kind].message });
    }
    let answer: Body;
    try {
      answer = await handle(asObject(req.body));
    } catch (err) {
      if (!(err instanceof PortalError)) throw err;
      answer = err.body();
    }
    const errorCode = String(answer.error_code);
    if (faults.loseReply()) {
      record({ endpoint, service, httpStatus: 504, errorCode, outcome: 'lost', dossiers });
      return reply.code(504).send({ error_code: PORTAL_CODES.SYSTEM_ERROR.code, message: 'Hết thời gian chờ (gateway time-out)' });
    }
    record({ endpoint, service, httpStatus: 200, errorCode, outcome: errorCode === PORTAL_CODES.OK.code ? 'ok' : 'refused', dossiers });
    return reply.code(200).send(answer);
  }

  function requireSession(body: Body): string {
    if (!sessions.isValid(body.session)) throw new PortalError('SESSION_INVALID');
    const agency = body.madonvi;
    if (typeof agency !== 'string' || !AGENCY_CODE.test(agency)) {
      throw new PortalError('INVALID_AGENCY', undefined, [{ field: 'madonvi', message: 'mã định danh đơn vị không hợp lệ, ví dụ 000.00.15.H49 (malformed agency code)' }]);
    }
    return agency;
  }

  function dataItems(body: Body): Body[] {
    const data = body.data;
    if (!Array.isArray(data) || data.length === 0 || data.length > MAX_BATCH) {
      throw new PortalError('INVALID_DATA', undefined, [{ field: 'data', message: `phải là mảng 1–${MAX_BATCH} hồ sơ (must be an array of 1–${MAX_BATCH} items)` }]);
    }
    return data.map((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw new PortalError('INVALID_DATA', undefined, [{ field: `data[${i}]`, message: 'phải là đối tượng (must be an object)' }]);
      return item as Body;
    });
  }

  app.post('/api/auth/login', (req, reply) =>
    apiCall(req, reply, 'login', (body) => {
      const session = sessions.login(body.username, body.password);
      if (!session) throw new PortalError('LOGIN_FAILED');
      return ok({ session });
    }),
  );

  async function integrationCall(body: Body): Promise<Body> {
    const agency = requireSession(body);
    const items = dataItems(body);
    if (body.service === 'DongBoHoSoMC') {
      const isUpdating = parseIsUpdating(body.isUpdating);
      const checks = items.map((item, i) => checkDossierItem(item, i, opts.procedures));
      const errors = checks.flatMap((c) => c.errors);
      if (errors.length) throw new PortalError(checks.some((c) => c.unknownProcedure) ? 'UNKNOWN_PROCEDURE' : 'INVALID_DATA', undefined, errors);
      await store.syncDossiers(agency, items, isUpdating);
    } else {
      const errors = items.flatMap((item, i) => checkProgressItem(item, i).errors);
      if (errors.length) throw new PortalError('INVALID_DATA', undefined, errors);
      await store.progressDossiers(agency, items);
    }
    return ok();
  }

  async function shareCall(body: Body): Promise<Body> {
    const agency = requireSession(body);
    if (body.service === 'LayDanhSachTTHC') return ok({ result: opts.procedures.listing() });
    if (body.service === 'LayThuTuc') return ok({ result: procedureDetails(opts.procedures, body) });
    const code = body.mahoso ?? body.MaHoSo;
    if (typeof code !== 'string' || !DOSSIER_CODE.test(code)) throw new PortalError('INVALID_DATA', undefined, [{ field: 'mahoso', message: 'bắt buộc, mã hồ sơ hợp lệ (required dossier code)' }]);
    const found = await store.get(agency, code);
    return ok({ result: found ? [await lookupRow(store, found)] : [] });
  }

  // Clients differ in which endpoint they call a service on (OpenCPS-shaped clients send
  // LayThuTuc and TraCuuHoSo to their one configured integration endpoint), so both endpoints
  // answer every service; the service name alone decides what is done.
  const dispatch = (body: Body): Promise<Body> => {
    const service = String(body.service);
    if (INTEGRATION_SERVICES.includes(service)) return integrationCall(body);
    if (SHARE_SERVICES.includes(service)) return shareCall(body);
    requireSession(body);
    throw new PortalError('UNKNOWN_SERVICE', `${PORTAL_CODES.UNKNOWN_SERVICE.message}: ${service.slice(0, 60)}`);
  };
  app.post('/api/integration', (req, reply) => apiCall(req, reply, 'integration', dispatch));
  app.post('/api/share', (req, reply) => apiCall(req, reply, 'share', dispatch));

  app.post('/citizen/dossiers', async (req, reply) => {
    try {
      const { agency, record } = await filing.file(asObject(req.body));
      return reply.code(201).send(ok({ MaHoSo: record.MaHoSo, MaDonVi: agency, NgayHenTra: record.NgayHenTra }));
    } catch (err) {
      if (err instanceof PortalError) return reply.code(200).send(err.body());
      throw err;
    }
  });

  app.get('/_admin/faults', async () => faults.view());
  app.put('/_admin/faults', async (req, reply) => {
    const result = faults.apply(req.body);
    if ('errors' in result) return sendControlProblem(reply, invalidControlBody(result.errors), req);
    const expired = result.expireSessions ? sessions.expireAll() : 0;
    return { ...faults.view(), ...(result.expireSessions ? { sessionsExpired: expired } : {}) };
  });

  app.get<{ Querystring: { agency?: string; code?: string; source?: 'one-stop' | 'online' } }>('/_admin/dossiers', async (req, reply) => {
    const source = req.query.source;
    if (source !== undefined && source !== 'one-stop' && source !== 'online') {
      return sendControlProblem(reply, invalidControlQuery('source', `must be one-stop or online, not ${JSON.stringify(String(source).slice(0, 40))}`), req);
    }
    const dossiers = await Promise.all((await store.list(req.query)).map(async (d) => {
      const handover = d.source === 'online' ? await store.outbox(d.agency, d.code) : null;
      return {
        agency: d.agency,
        dossierCode: d.code,
        procedureCode: d.record.MaTTHC,
        status: d.status,
        source: d.source,
        copies: d.copies,
        submissions: d.submissions,
        progressUpdates: d.progressUpdates,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
        statusHistory: await store.history(d.agency, d.code),
        record: d.record,
        ...(handover ? { handover: { deliveredAt: handover.deliveredAt, messageId: handover.messageId, attempts: handover.attempts, lastError: handover.lastError, failedPermanently: handover.failedPermanently } } : {}),
      };
    }));
    return { count: dossiers.length, dossiers };
  });

  app.get<{ Querystring: { limit?: string; service?: string } }>('/_admin/calls', async (req, reply) => {
    // A limit the log cannot honour is refused, not read as "the default": a tester reading
    // 500 calls where they asked for a typo would draw conclusions from the wrong window.
    const asked = req.query.limit;
    if (asked !== undefined && !/^[1-9][0-9]{0,8}$/.test(String(asked))) {
      return sendControlProblem(reply, invalidControlQuery('limit', `must be a whole number from 1 (at most ${MAX_CALL_LOG} calls are kept), not ${JSON.stringify(String(asked).slice(0, 40))}`), req);
    }
    const limit = Math.min(MAX_CALL_LOG, asked === undefined ? 500 : Number(asked));
    const list = req.query.service ? calls.filter((c) => c.service === req.query.service) : calls;
    return { calls: list.slice(-limit) };
  });

  app.get('/_admin/stats', async () => ({
    logins: sessions.logins,
    activeSessions: sessions.active,
    calls: calls.length,
    byOutcome: calls.reduce<Record<string, number>>((acc, c) => ((acc[c.outcome] = (acc[c.outcome] ?? 0) + 1), acc), {}),
    faults: faults.view(),
  }));

  app.addHook('onClose', async () => {
    await filing.stop();
    await db.close();
  });
  filing.start(opts.handoverIntervalMs);

  return { app, store, faults, sessions, filing, calls, setBusTarget: (t) => (busTarget = t) };
}

/**
 * LayThuTuc: one procedure's details by code, as clients shaped like OpenCPS call it
 * (`maTTHC`, read back as result[0].TENTTHC and result[0].LINHVUCTHUCHIEN[0].MALINHVUC). A
 * local variant (national code plus agency code) answers with its national entry, as
 * DongBoHoSoMC accepts it; an unknown code is the portal's "unknown procedure".
 */
function procedureDetails(procedures: ProcedureCatalogue, body: Body): Record<string, unknown>[] {
  const code = body.maTTHC ?? body.MaTTHC ?? body.matthc;
  if (typeof code !== 'string' || code.trim() === '') throw new PortalError('INVALID_DATA', undefined, [{ field: 'maTTHC', message: 'bắt buộc, mã thủ tục hành chính (required procedure code)' }]);
  const row = procedures.details(code.trim());
  if (!row) throw new PortalError('UNKNOWN_PROCEDURE', `${PORTAL_CODES.UNKNOWN_PROCEDURE.message}: ${code.trim().slice(0, 40)}`);
  return [row];
}

function dossierCodesOf(body: unknown): string[] {
  const b = body as Body | undefined;
  if (!b || typeof b !== 'object') return [];
  if (typeof b.mahoso === 'string') return [b.mahoso];
  if (!Array.isArray(b.data)) return [];
  return b.data.map((d) => (d && typeof d === 'object' ? String((d as Body).MaHoSo ?? '') : '')).filter(Boolean);
}
