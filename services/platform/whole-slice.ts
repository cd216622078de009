// A string cut to at most `end` UTF-16 code units without splitting a surrogate pair: half a
// pair has no UTF-8 form (JSON writes it as \udxxx; PostgreSQL and encodeURIComponent refuse it).
// What every cut of a caller's text (a problem's detail, a connector's failure reason) uses.
export function sliceWhole(text: string, end: number): string {
  if (text.length <= end) return text;
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}
