// The portal's administrative-procedure catalogue (thủ tục hành chính), loaded from
// seeds/procedures.json: what LayDanhSachTTHC and LayThuTuc answer and what DongBoHoSoMC checks MaTTHC and
// MaLinhVuc against.
import { readFileSync } from 'node:fs';

export interface Procedure {
  code: string;
  name: string;
  sector: { code: string; name: string };
  agencies: string[];
  level?: string;
  processingDays: number;
  fees: { code?: string; name: string; amount: number; kind: 'fee' | 'charge' }[];
  documents?: { componentCode: string; name: string }[];
}

const PROCEDURE_CODE = /^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)*$/;
const NATIONAL_PART = /^[0-9]\.[0-9]{6}/;

export class ProcedureCatalogue {
  private readonly byCode = new Map<string, Procedure>();

  constructor(readonly procedures: Procedure[]) {
    for (const p of procedures) {
      if (!PROCEDURE_CODE.test(p.code)) throw new Error(`procedure catalogue: malformed code ${p.code}`);
      this.byCode.set(p.code, p);
    }
  }

  static load(file: string): ProcedureCatalogue {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { procedures?: Procedure[] };
    if (!Array.isArray(data.procedures)) throw new Error(`procedure catalogue ${file}: "procedures" must be an array`);
    return new ProcedureCatalogue(data.procedures);
  }

  /**
   * The procedure a MaTTHC refers to: an exact catalogue entry, or a local variant (national code
   * with an agency code appended, DESIGN §7) of a national entry.
   */
  find(code: string): Procedure | undefined {
    const exact = this.byCode.get(code);
    if (exact) return exact;
    const national = NATIONAL_PART.exec(code)?.[0];
    return national && code.length > national.length ? this.byCode.get(national) : undefined;
  }

  /** LayDanhSachTTHC rows, in the portal's upper-case field style. */
  listing(): Record<string, unknown>[] {
    return this.procedures.map((p) => listingRow(p));
  }

  /** LayThuTuc: the listing row of one procedure plus its documents (null when unknown). */
  details(code: string): Record<string, unknown> | null {
    const p = this.find(code);
    if (!p) return null;
    return {
      ...listingRow(p),
      THANHPHANHOSO: (p.documents ?? []).map((d) => ({ MATHANHPHAN: d.componentCode, TENTHANHPHAN: d.name })),
    };
  }
}

function listingRow(p: Procedure): Record<string, unknown> {
  return {
    MATTHC: p.code,
    TENTTHC: p.name,
    LINHVUCTHUCHIEN: [{ MALINHVUC: p.sector.code, TENLINHVUC: p.sector.name }],
    COQUANTHUCHIEN: p.agencies.map((a) => ({ MACOQUAN: a })),
    CAPTHUCHIEN: p.level ?? '',
    THOIHANGIAIQUYET: p.processingDays,
    PHILEPHI: p.fees.map((f) => ({ MAPHILEPHI: f.code ?? '', TENPHILEPHI: f.name, MUCPHI: f.amount, LOAIPHILEPHI: f.kind === 'fee' ? '1' : '2' })),
  };
}
