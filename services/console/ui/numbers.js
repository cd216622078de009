// Numbers and durations as the console shows them, in the view's language: Vietnamese writes
// 1.234,5 where English writes 1,234.5, durations included (a trace's "+1,25 s").
export const localeOf = (lang) => (lang === 'vi' ? 'vi-VN' : 'en-GB');

export const formatNumber = (n, lang) => (n === null || n === undefined ? '—' : Number(n).toLocaleString(localeOf(lang)));

/** A trace's time since an earlier step: milliseconds under a second, else seconds with two decimals. */
export const formatDuration = (ms, lang) =>
  ms === null || ms === undefined
    ? ''
    : ms < 1000
      ? `+${formatNumber(ms, lang)} ms`
      : `+${(ms / 1000).toLocaleString(localeOf(lang), { minimumFractionDigits: 2, maximumFractionDigits: 2 })} s`;
