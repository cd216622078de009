// A simulator of the provincial reporting information system (Hệ thống thông tin báo cáo tỉnh)
// for demos and tests: the submission API the periodic-report connector calls. Like a real
// system it authenticates the caller (X-API-Key, compared in constant time), checks the bus's
// detached signature (LGSP-Signature) when given keys, validates the report against its own
// rules (fields per report type, period granularity, due date not before the period), records
// whether it arrived on time, and answers a receipt number. The same message (LGSP-Message-Id /
// maThongDiep) always gets the same receipt; a new submission for the same agency, type and
// period is a new revision. Operators and tests can make it fail or go down.
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import type { JWTVerifyGetKey } from 'jose';
import { verifyDetached } from '../platform/detached-jws.js';
import { controlProblems } from '../platform/control-problems.js';

export interface StoredReport {
  receipt: string;
  messageId: string;
  agency: string;
  system: string;
  reportType: string;
  period: string;
  dueDate: string;
  title: string;
  figures: Record<string, number>;
  receivedAt: string;
  onTime: boolean;
  daysLate: number;
  revision: number;
}

type Mode = { mode: 'ok' } | { mode: 'down' } | { mode: 'fail'; remaining: number; status: number };

export interface ReportingState {
  reports: StoredReport[];
  attempts: number;
  mode: Mode;
}

export interface ReportingSimulatorOptions {
  apiKey: string;
  /** Verify LGSP-Signature with these keys (the bus JWKS); without it signatures are not required. */
  verificationKeys?: JWTVerifyGetKey;
  /** Province code in receipt numbers. */
  province?: string;
  now?: () => Date;
}

const PERIOD_BY_TYPE: Record<string, RegExp> = {
  'tthc-thang': /^\d{4}-(0[1-9]|1[0-2])$/,
  'cchc-quy': /^\d{4}-Q[1-4]$/,
  'cds-nam': /^\d{4}$/,
};

const count = { type: 'integer', minimum: 0 };
const FIGURES_BY_TYPE: Record<string, object> = {
  'tthc-thang': {
    type: 'object',
    additionalProperties: false,
    required: ['received', 'resolvedOnTime', 'resolvedLate', 'inProgress'],
    properties: { received: count, onlineReceived: count, resolvedOnTime: count, resolvedLate: count, inProgress: count },
  },
  'cchc-quy': {
    type: 'object',
    additionalProperties: false,
    required: ['proceduresReviewed', 'proceduresSimplified', 'inspections'],
    properties: { proceduresReviewed: count, proceduresSimplified: count, inspections: count, documentsIssued: count },
  },
  'cds-nam': {
    type: 'object',
    additionalProperties: false,
    required: ['onlineServices', 'fullOnlineServices', 'digitallySignedRate'],
    properties: { onlineServices: count, fullOnlineServices: count, digitallySignedRate: { type: 'number', minimum: 0, maximum: 100 }, lgspTransactions: count },
  },
};

const reportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['maThongDiep', 'donViGui', 'loaiBaoCao', 'kyBaoCao', 'hanNop', 'tieuDe', 'soLieu'],
  properties: {
    maThongDiep: { type: 'string', minLength: 1, maxLength: 100 },
    donViGui: {
      type: 'object',
      additionalProperties: false,
      required: ['maDinhDanh', 'heThong'],
      properties: { maDinhDanh: { type: 'string', pattern: '^[A-Z0-9.]{1,35}$' }, heThong: { type: 'string', minLength: 1 } },
    },
    loaiBaoCao: { enum: Object.keys(PERIOD_BY_TYPE) },
    kyBaoCao: { type: 'string' },
    hanNop: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    tieuDe: { type: 'string', minLength: 1, maxLength: 500 },
    soKyHieu: { type: 'string', maxLength: 100 },
    nguoiLap: { type: 'object', properties: { donVi: { type: 'string' }, chucVu: { type: 'string' } } },
    soLieu: { type: 'object' },
    ghiChu: { type: 'string', maxLength: 5000 },
  },
};

interface ReportBody {
  maThongDiep: string;
  donViGui: { maDinhDanh: string; heThong: string };
  loaiBaoCao: string;
  kyBaoCao: string;
  hanNop: string;
  tieuDe: string;
  soLieu: Record<string, number>;
}

type Refusal = { ma: string; moTa: string; loi: { truong: string; moTa: string }[] };

const ajv = new Ajv({ allErrors: true });
const validateReport = ajv.compile<ReportBody>(reportSchema);
const validateFigures = Object.fromEntries(Object.entries(FIGURES_BY_TYPE).map(([type, schema]) => [type, ajv.compile(schema)]));

function refusal(ma: string, moTa: string, loi: Refusal['loi'] = []): Refusal {
  return { ma, moTa, loi };
}

/** First day of the period (UTC date string compare is enough: all dates are calendar dates). */
function periodStart(period: string): string {
  if (/^\d{4}$/.test(period)) return `${period}-01-01`;
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
  if (quarter) return `${quarter[1]}-${String((Number(quarter[2]) - 1) * 3 + 1).padStart(2, '0')}-01`;
  return `${period}-01`;
}

/** Whole days after the due date's end (Asia/Ho_Chi_Minh, UTC+7 all year), 0 when on time. */
function daysLate(dueDate: string, at: Date): number {
  const endOfDue = Date.parse(`${dueDate}T23:59:59.999+07:00`);
  if (Number.isNaN(endOfDue) || at.getTime() <= endOfDue) return 0;
  return Math.ceil((at.getTime() - endOfDue) / 86_400_000);
}

/** Refusal for a body that passed the schema but breaks the reporting regime's rules, or null. */
function ruleViolation(body: ReportBody): Refusal | null {
  if (!PERIOD_BY_TYPE[body.loaiBaoCao].test(body.kyBaoCao)) {
    return refusal('KY_BAO_CAO_KHONG_HOP_LE', `Kỳ báo cáo không đúng định dạng của loại ${body.loaiBaoCao}`, [{ truong: 'kyBaoCao', moTa: 'sai định dạng kỳ' }]);
  }
  if (Number.isNaN(Date.parse(`${body.hanNop}T00:00:00Z`)) || body.hanNop < periodStart(body.kyBaoCao)) {
    return refusal('HAN_NOP_KHONG_HOP_LE', 'Hạn nộp phải là ngày hợp lệ, không trước kỳ báo cáo', [{ truong: 'hanNop', moTa: 'trước kỳ báo cáo' }]);
  }
  const validate = validateFigures[body.loaiBaoCao];
  if (!validate(body.soLieu)) {
    return refusal('SO_LIEU_KHONG_HOP_LE', 'Số liệu không đúng mẫu của loại báo cáo', (validate.errors ?? []).map((e) => ({ truong: `soLieu${e.instancePath.replace(/\//g, '.')}${e.params && 'missingProperty' in e.params ? `.${e.params.missingProperty}` : ''}`, moTa: e.message ?? '' })));
  }
  const f = body.soLieu;
  if (body.loaiBaoCao === 'tthc-thang' && (f.onlineReceived ?? 0) > f.received) {
    return refusal('SO_LIEU_KHONG_KHOP', 'Số hồ sơ trực tuyến lớn hơn tổng số hồ sơ tiếp nhận', [{ truong: 'soLieu.onlineReceived', moTa: 'lớn hơn soLieu.received' }]);
  }
  if (body.loaiBaoCao === 'cds-nam' && f.fullOnlineServices > f.onlineServices) {
    return refusal('SO_LIEU_KHONG_KHOP', 'Số dịch vụ toàn trình lớn hơn tổng số dịch vụ trực tuyến', [{ truong: 'soLieu.fullOnlineServices', moTa: 'lớn hơn soLieu.onlineServices' }]);
  }
  return null;
}

function keysMatch(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function buildReportingSimulator(opts: ReportingSimulatorOptions): Promise<{ app: FastifyInstance; state: ReportingState }> {
  const state: ReportingState = { reports: [], attempts: 0, mode: { mode: 'ok' } };
  const now = opts.now ?? (() => new Date());
  const province = opts.province ?? 'H49';
  let sequence = 0;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  // Its own refusals (a mode it does not know) are problem+json; the submission API answers in the
  // imitated system's shape (ma, moTa, loi), which its route writes itself.
  controlProblems(app);

  // The submission API in a scope of its own: it takes the raw bytes, needed to check the detached
  // signature over exactly what was sent; the admin routes below keep Fastify's JSON parser, so
  // their body schemas see an object (with the Buffer parser for the whole app, every
  // PUT /_admin/mode was a 400).
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post<{ Body: Buffer }>('/api/v1/bao-cao', async (req, reply) => {
      state.attempts++;
      const mode = state.mode;
      if (mode.mode === 'down') return reply.code(503).header('retry-after', '1').send(refusal('TAM_NGUNG', 'Hệ thống tạm ngừng (mô phỏng)'));
      if (mode.mode === 'fail' && mode.remaining > 0) {
        mode.remaining--;
        return reply.code(mode.status).send(refusal('LOI_HE_THONG', 'Lỗi mô phỏng'));
      }
      if (!keysMatch(req.headers['x-api-key'] as string | undefined, opts.apiKey)) {
        return reply.code(401).send(refusal('KHONG_XAC_THUC', 'Thiếu hoặc sai khóa API'));
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (opts.verificationKeys) {
        const signature = req.headers['lgsp-signature'];
        try {
          if (typeof signature !== 'string') throw new Error('missing');
          await verifyDetached(raw, signature, opts.verificationKeys);
        } catch {
          return reply.code(401).send(refusal('CHU_KY_KHONG_HOP_LE', 'Chữ ký của trục LGSP không hợp lệ'));
        }
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return reply.code(400).send(refusal('DU_LIEU_KHONG_DOC_DUOC', 'Nội dung không phải JSON'));
      }
      if (!validateReport(body)) {
        return reply.code(422).send(refusal('BAO_CAO_KHONG_HOP_LE', 'Báo cáo không đúng cấu trúc', (validateReport.errors ?? []).map((e) => ({ truong: e.instancePath.slice(1).replace(/\//g, '.') || String(e.params?.missingProperty ?? e.params?.additionalProperty ?? ''), moTa: e.message ?? '' }))));
      }
      const messageId = String(req.headers['lgsp-message-id'] ?? body.maThongDiep);
      const known = state.reports.find((r) => r.messageId === messageId);
      if (known) return reply.code(200).send(receiptOf(known));
      const violation = ruleViolation(body);
      if (violation) return reply.code(422).send(violation);

      const at = now();
      const late = daysLate(body.hanNop, at);
      const previous = state.reports.filter((r) => r.agency === body.donViGui.maDinhDanh && r.reportType === body.loaiBaoCao && r.period === body.kyBaoCao);
      const stored: StoredReport = {
        receipt: `BC-${province}-${at.getUTCFullYear()}-${String(++sequence).padStart(6, '0')}`,
        messageId,
        agency: body.donViGui.maDinhDanh,
        system: body.donViGui.heThong,
        reportType: body.loaiBaoCao,
        period: body.kyBaoCao,
        dueDate: body.hanNop,
        title: body.tieuDe.normalize('NFC'),
        figures: body.soLieu,
        receivedAt: at.toISOString(),
        onTime: late === 0,
        daysLate: late,
        revision: previous.length + 1,
      };
      state.reports.push(stored);
      return reply.code(201).send(receiptOf(stored));
    });
  });

  app.get<{ Querystring: { agency?: string; reportType?: string } }>('/_admin/reports', async (req) => ({
    attempts: state.attempts,
    reports: state.reports.filter((r) => (!req.query.agency || r.agency === req.query.agency) && (!req.query.reportType || r.reportType === req.query.reportType)),
  }));

  app.put<{ Body: { mode: 'ok' | 'down' | 'fail'; failures?: number; status?: number } }>('/_admin/mode', {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['mode'],
        properties: { mode: { enum: ['ok', 'down', 'fail'] }, failures: { type: 'integer', minimum: 1 }, status: { type: 'integer', minimum: 400, maximum: 599 } },
      },
    },
  }, async (req) => {
    const { mode, failures = 1, status = 503 } = req.body;
    state.mode = mode === 'fail' ? { mode, remaining: failures, status } : { mode };
    return { mode };
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  return { app, state };
}

function receiptOf(r: StoredReport) {
  return { soBienNhan: r.receipt, thoiGianNhan: r.receivedAt, dungHan: r.onTime, soNgayTre: r.daysLate, lanNop: r.revision };
}
