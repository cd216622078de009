// Text every service refuses at the door, whatever the route: U+0000 (PostgreSQL text cannot
// hold it: a statement carrying one fails, and with it every other request batched into that
// statement), lone UTF-16 surrogates (not Unicode text: they have no UTF-8 form, so they cannot
// travel "UTF-8 end to end" — in a header they broke every delivery attempt of a message the
// gateway had accepted), and JSON nested deeper than any real document (recursive code further
// on would overflow its stack). Checked on parsed JSON bodies, query strings and path
// parameters before schema validation (problem-handler.ts), so each is a 400 naming the field
// and nothing of the request is kept.
import type { FieldError } from './problem.js';

/** Deeper JSON than this is refused; no payload schema of the bus comes near it. */
export const MAX_JSON_DEPTH = 64;

function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the character U+0000';
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return 'must be well-formed Unicode (a lone surrogate has no UTF-8 form)';
  return null;
}

function fieldName(path: readonly (string | number)[], prefix: string): string {
  return [prefix, ...path.map(String)].filter(Boolean).join('.') || '(body)';
}

/**
 * The first thing in `value` (strings, object keys, nesting) no service accepts, as a field
 * error; null when there is none. Iterative, so depth itself cannot overflow the stack.
 */
export function textProblem(value: unknown, prefix = '', maxDepth = MAX_JSON_DEPTH): FieldError | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) return { field: fieldName(path, prefix), message: problem };
      continue;
    }
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
    if (path.length >= maxDepth) return { field: fieldName(path, prefix), message: `must not nest deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, i] });
      continue;
    }
    for (const key of Object.keys(v)) {
      const problem = stringProblem(key);
      if (problem) return { field: fieldName(path, prefix), message: `has a property name that ${problem}` };
      stack.push({ value: (v as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return null;
}
