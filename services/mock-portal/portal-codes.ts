// The mock portal's own result codes. Public integrations with the National Public Service
// Portal read `error_code` ("0" = success) from every answer and a Vietnamese `message`; the
// specific non-zero codes below are this mock's (documented in docs/one-stop-shop-guide.md),
// chosen so a client can tell "log in again", "retry later" and "fix the data" apart.

export const PORTAL_CODES = {
  OK: { code: '0', message: 'Thành công' },
  SYSTEM_ERROR: { code: '-1', message: 'Lỗi hệ thống, vui lòng thử lại sau' },
  SESSION_INVALID: { code: '1', message: 'Phiên làm việc không hợp lệ hoặc đã hết hạn' },
  LOGIN_FAILED: { code: '2', message: 'Tên đăng nhập hoặc mật khẩu không đúng' },
  INVALID_DATA: { code: '3', message: 'Dữ liệu không hợp lệ' },
  UNKNOWN_PROCEDURE: { code: '4', message: 'Mã thủ tục hành chính không tồn tại' },
  ILLEGAL_TRANSITION: { code: '5', message: 'Chuyển trạng thái hồ sơ không hợp lệ' },
  DOSSIER_NOT_FOUND: { code: '6', message: 'Không tìm thấy hồ sơ' },
  UNKNOWN_SERVICE: { code: '7', message: 'Dịch vụ không được hỗ trợ' },
  INVALID_AGENCY: { code: '8', message: 'Mã đơn vị không hợp lệ' },
  RATE_LIMITED: { code: '9', message: 'Vượt quá số lượng yêu cầu cho phép, vui lòng thử lại sau' },
  UNAVAILABLE: { code: '10', message: 'Hệ thống đang bận hoặc bảo trì, vui lòng thử lại sau' },
} as const;

export type PortalCodeName = keyof typeof PORTAL_CODES;

export interface PortalFieldError {
  field: string;
  message: string;
}

/** A refusal the portal answers with its own code (HTTP 200, like the real portal's business errors). */
export class PortalError extends Error {
  constructor(
    readonly kind: PortalCodeName,
    detail?: string,
    readonly errors: PortalFieldError[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? PORTAL_CODES[kind].message);
    this.name = 'PortalError';
  }

  body(): Record<string, unknown> {
    return {
      error_code: PORTAL_CODES[this.kind].code,
      message: this.message,
      ...(this.errors.length ? { errors: this.errors } : {}),
      ...this.extra,
    };
  }
}
