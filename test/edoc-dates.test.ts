// Dates in an edoc payload are calendar dates, not just the YYYY/MM/DD shape the schema checks.
import t from 'tap';
import { checkEdocDates } from '../services/document-exchange/edoc-dates.js';
import { ProblemError } from '../services/platform/problem.js';

function refusal(payload: Record<string, unknown>): ProblemError | null {
  try {
    checkEdocDates('edoc.send', payload);
    return null;
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
}

t.test('leap days and month lengths follow the Gregorian calendar', async (t) => {
  for (const ok of ['2024/02/29', '2000/02/29', '2026/01/31', '2026/04/30', '2026/12/31', '0001/01/01']) {
    t.equal(refusal({ header: { dueDate: ok } }), null, ok);
  }
  for (const bad of ['2026/02/29', '2100/02/29', '2026/04/31', '2026/13/01', '2026/00/10', '2026/05/00', '0000/01/01']) {
    const problem = refusal({ header: { dueDate: bad } });
    t.equal(problem?.status, 400, bad);
    t.same(problem?.extras.errors, [{ field: 'payload.header.dueDate', message: `${bad} is not a calendar date (YYYY/MM/DD)` }], bad);
  }
});

t.test('instants need a time of day; a DocumentId its date; every bad one is named', async (t) => {
  t.equal(refusal({ traceHeaderList: { traceHeaders: [{ timestamp: '2026/05/02 23:59:59' }, { timestamp: '2026/05/02 00:00:00' }] } }), null);
  const problem = refusal({
    header: { documentId: '000.00.00.H49,2026/02/30,12/UBND', promulgationInfo: { promulgationDate: '2026/03/05' } },
    traceHeaderList: { traceHeaders: [{ timestamp: '2026/05/02 09:00:00' }, { timestamp: '2026/05/02 24:00:00' }], bussiness: { replacementInfoList: [{ documentId: '000.00.00.H49,2026/01/01,1/UBND' }] } },
  });
  t.same(problem?.extras.errors, [
    { field: 'payload.header.documentId', message: 'DocumentId 000.00.00.H49,2026/02/30,12/UBND: its date is not a calendar date (YYYY/MM/DD)' },
    { field: 'payload.traceHeaderList.traceHeaders[1].timestamp', message: '2026/05/02 24:00:00 is not a time of day (HH 00-23, mm and ss 00-59)' },
  ]);
  t.match(problem?.detail, /^Invalid edoc\.send payload: payload\.header\.documentId DocumentId/);
  t.equal(refusal({ traceHeaderList: { bussiness: { documentId: '000.00.00.H49,2026/02/30,12/UBND' } }, responseFor: { documentId: '000.00.00.H49,2026/02/30,12/UBND' } }), null, 'a reference to an earlier document is not judged again');
  // Shapes the schema refuses are the schema's to name: no second error for them here.
  t.equal(refusal({ header: { dueDate: '05-03-2026', documentId: 'no-date' } }), null);
});
