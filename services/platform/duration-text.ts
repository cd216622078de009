// Durations in the words operators read in failure reasons and dead letters.

/** "850 ms", "12.4 s", "3 min 20 s", "2 h 3 min" — for reasons operators read. */
export function formatDuration(ms: number): string {
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  const s = Math.round(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * A period set in whole seconds (a key's grace period, a retention), in the units an operator
 * sets it in: "8 days", "1 day 6 h", "7 days 3 h 46 min 40 s", "90 s" is "1 min 30 s"; under a
 * minute a fraction is kept ("1.5 s": a timeout set in milliseconds).
 */
export function formatPeriod(seconds: number): string {
  if (seconds > 0 && seconds < 60 && !Number.isInteger(seconds)) return `${+seconds.toFixed(2)} s`;
  let left = Math.max(0, Math.round(seconds));
  const parts: string[] = [];
  const days = Math.floor(left / 86_400);
  left -= days * 86_400;
  if (days > 0) parts.push(`${days} ${days === 1 ? 'day' : 'days'}`);
  for (const [unit, size] of [['h', 3600], ['min', 60], ['s', 1]] as const) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0) parts.push(`${n} ${unit}`);
  }
  return parts.length > 0 ? parts.join(' ') : '0 s';
}
