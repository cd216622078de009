// Sorting identifiers (message types, folder names, member codes) by their UTF-16 code units,
// not with String.prototype.localeCompare: the first localeCompare of a process makes ICU load
// its collation data and code, pages of the node binary that stay resident from then on — about
// 2 MB of ICU data alone in a gateway (its pages counted through /proc/<pid>/pagemap: 0.9 MB of
// the 31.6 MB ICU blob resident without it, 2.3 MB in a bare node after one localeCompare), for
// lists of ASCII names whose order no language decides. Text people read is another matter.

/** Array.prototype.sort comparator in code-unit order (what `<` on strings compares). */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
