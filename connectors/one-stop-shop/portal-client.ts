// HTTP client for the National Public Service Portal's integration API, as public integrations
// call it: log in with username/password for a session, then POST JSON calls carrying the
// session and the agency code (madonvi). One client per connector configuration keeps one
// session: concurrent calls share a single login, and a call the portal refuses for an expired
// session logs in again and is repeated once, inside the same delivery attempt. Transport
// failures are classified for the runtime: 5xx, 408, 429 and network errors are retryable
// (with the portal's Retry-After), other HTTP 4xx are permanent.
import { PermanentError, RetryableError, type ConnectorMetrics } from '@lgsp/sdk';

export interface PortalEndpoints {
  portalUrl: string;
  loginPath: string;
  integrationPath: string;
  sharePath: string;
  username: string;
  requestTimeoutMs: number;
}

/** What every portal call answers: error_code "0" is success (see docs/one-stop-shop-guide.md). */
export interface PortalAnswer {
  error_code: string;
  message?: string;
  errors?: { field: string; message: string }[];
  session?: string;
  result?: unknown[];
  current_status?: string;
  [extra: string]: unknown;
}

export const PORTAL_OK = '0';
export const PORTAL_SESSION_INVALID = '1';
const PORTAL_LOGIN_FAILED = '2';
/** Refusals that no retry will fix: the data or the request itself is wrong. */
const PERMANENT_CODES = new Set(['3', '4', '7', '8']);

export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * What the portal's error codes mean, in the portal's words (docs/one-stop-shop-guide.md lists
 * them). A refusal is told by its code and this text, not by the `message` the portal answered:
 * that is free text, and a portal that names the dossier's citizen in it ("hồ sơ của ông …")
 * would put a name into the message's events, its dead-letter headers and the audit chain,
 * which is permanent.
 */
export const PORTAL_CODE_MEANINGS: Readonly<Record<string, string>> = {
  '-1': 'Lỗi hệ thống',
  '1': 'Phiên làm việc không hợp lệ hoặc đã hết hạn',
  '2': 'Tên đăng nhập hoặc mật khẩu không đúng',
  '3': 'Dữ liệu không hợp lệ',
  '4': 'Mã thủ tục hành chính không tồn tại',
  '5': 'Chuyển trạng thái hồ sơ không hợp lệ',
  '6': 'Không tìm thấy hồ sơ',
  '7': 'Dịch vụ không được hỗ trợ',
  '8': 'Mã đơn vị không hợp lệ',
  '9': 'Vượt quá số lượng yêu cầu cho phép',
  '10': 'Hệ thống đang bận hoặc bảo trì',
};

/**
 * Turns a non-zero error_code into the error the runtime acts on. Codes, their meaning and field
 * names only (never the portal's free text or a field's value): reasons end up in events and
 * dead-letter headers, which must not carry personal data.
 */
export function portalRefusal(what: string, answer: PortalAnswer): Error {
  const code = String(answer.error_code);
  const fields = Array.isArray(answer.errors) && answer.errors.length ? ` (${answer.errors.slice(0, 20).map((e) => String(e?.field).slice(0, 100)).join(', ')})` : '';
  const meaning = Object.hasOwn(PORTAL_CODE_MEANINGS, code) ? PORTAL_CODE_MEANINGS[code] : undefined;
  const text = `${what}: portal error_code ${code.slice(0, 20)}${meaning ? ` "${meaning}"` : ''}${fields}`;
  return PERMANENT_CODES.has(code) ? new PermanentError(text) : new RetryableError(text);
}

export class PortalClient {
  private session: string | null = null;
  private loggingIn: Promise<string> | null = null;
  /** Logins performed by this client (observability and tests). */
  logins = 0;

  constructor(
    private readonly endpoints: PortalEndpoints,
    private readonly password: () => string,
    private readonly metrics?: ConnectorMetrics,
  ) {}

  get hasSession(): boolean {
    return this.session !== null;
  }

  /** Calls `service` on the integration (DongBoHoSoMC, CapNhatTienDoHoSoMC) or share (TraCuuHoSo, LayDanhSachTTHC) endpoint. */
  async call(endpoint: 'integration' | 'share', madonvi: string, body: Record<string, unknown>, signal: AbortSignal): Promise<PortalAnswer> {
    const path = endpoint === 'integration' ? this.endpoints.integrationPath : this.endpoints.sharePath;
    for (let round = 0; round < 2; round++) {
      const session = this.session ?? (await this.login(signal));
      const answer = await this.post(path, { session, madonvi, ...body }, signal);
      if (answer.error_code !== PORTAL_SESSION_INVALID) return answer;
      // Expired or revoked: forget it (unless a concurrent call already replaced it) and log in again.
      if (this.session === session) this.session = null;
    }
    throw new RetryableError(`${String(body.service)}: the portal refused a fresh session`);
  }

  /** One login at a time: calls that find no session wait for the same login. */
  private login(signal: AbortSignal): Promise<string> {
    this.loggingIn ??= (async () => {
      try {
        const answer = await this.post(this.endpoints.loginPath, { username: this.endpoints.username, password: this.password() }, signal);
        if (answer.error_code === PORTAL_LOGIN_FAILED) {
          // The reason reaches the sending agency's timeline: the account name is the operators'
          // to read, in the connector's configuration (username), not every sender's.
          throw new RetryableError('portal login refused: check the connector\'s credentials (its username setting and portalPassword secret)');
        }
        if (answer.error_code !== PORTAL_OK || typeof answer.session !== 'string' || answer.session === '') throw portalRefusal('login', answer);
        this.logins++;
        this.metrics?.counter('portal_logins_total', 'Sessions opened at the portal').inc();
        this.session = answer.session;
        return answer.session;
      } finally {
        this.loggingIn = null;
      }
    })();
    return this.loggingIn;
  }

  private async post(path: string, body: Record<string, unknown>, signal: AbortSignal): Promise<PortalAnswer> {
    const call = typeof body.service === 'string' ? body.service : 'login';
    const stopTimer = this.metrics?.histogram('portal_call_seconds', 'Time the portal took to answer, by call', { labelNames: ['call'] }).startTimer({ call });
    let outcome = 'network_error';
    try {
      const answer = await this.exchange(path, body, signal, (status) => (outcome = status));
      outcome = `code_${answer.error_code.replace(/[^0-9a-z]/gi, '_')}`;
      return answer;
    } finally {
      stopTimer?.();
      this.metrics?.counter('portal_answers_total', 'Portal answers by call and outcome (HTTP status or error_code)', ['call', 'outcome']).inc({ call, outcome });
    }
  }

  private async exchange(path: string, body: Record<string, unknown>, signal: AbortSignal, onStatus: (outcome: string) => void): Promise<PortalAnswer> {
    const url = new URL(path, this.endpoints.portalUrl).href;
    // Reasons name the call: one delivery makes several (TraCuuHoSo before DongBoHoSoMC, a login).
    const call = typeof body.service === 'string' ? body.service : 'login';
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.endpoints.requestTimeoutMs)]),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      // A timeout is a portal that took the call and did not answer, not one that cannot be reached.
      if (cause === 'TimeoutError') throw new RetryableError(`${call}: the call to portal ${new URL(url).origin} did not complete within ${this.endpoints.requestTimeoutMs} ms`);
      throw new RetryableError(`${call}: portal ${new URL(url).origin} unreachable: ${cause}`);
    }
    onStatus(`http_${response.status}`);
    const text = await response.text().catch(() => '');
    if (response.status === 429 || response.status === 408 || response.status >= 500) {
      throw new RetryableError(`${call}: portal answered HTTP ${response.status}`, retryAfterMs(response.headers.get('retry-after')));
    }
    if (!response.ok) throw new PermanentError(`${call}: portal answered HTTP ${response.status} for ${path}`);
    try {
      const answer = JSON.parse(text) as PortalAnswer;
      if (answer && typeof answer === 'object' && answer.error_code !== undefined) return { ...answer, error_code: String(answer.error_code) };
    } catch {
      /* fall through */
    }
    throw new RetryableError(`${call}: portal answered HTTP ${response.status} without a JSON result for ${path}`);
  }
}
