// Text every service refuses at the door, whatever the route: U+0000 (PostgreSQL text cannot
// hold it: a statement carrying one fails, and with it every other request batched into that
// statement), lone UTF-16 surrogates (not Unicode text: they have no UTF-8 form, so they cannot
// travel "UTF-8 end to end" — in a header they broke every delivery attempt of a message the
// gateway had accepted), and JSON nested deeper than any real document (recursive code further
// on would overflow its stack). Checked on parsed JSON bodies, query strings and path
// parameters before schema validation (problem-handler.ts), so each is a 400 naming the field
// and nothing of the request is kept.
import type { FieldError } from './problem.js';
import { fieldPath } from './field-path.js';

/** Deeper JSON than this is refused; no payload schema of the bus comes near it. */
export const MAX_JSON_DEPTH = 64;

function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the character U+0000';
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return 'must be well-formed Unicode (a lone surrogate has no UTF-8 form)';
  return null;
}

/** Where a value sits: its key and its parent's place (the path is only spelt out for an error). */
interface Place {
  key: string | number | null;
  parent: Place | null;
  depth: number;
}

function fieldName(place: Place, prefix: string): string {
  const path: (string | number)[] = [];
  for (let p: Place | null = place; p && p.key !== null; p = p.parent) path.unshift(p.key);
  return fieldPath(path, prefix);
}

/**
 * The first thing in `value` (strings, object keys, nesting) no service accepts, as a field
 * error; null when there is none. Iterative, so depth itself cannot overflow the stack; it runs
 * on every request, so nothing is allocated per string or number, and a path only on an error.
 */
export function textProblem(value: unknown, prefix = '', maxDepth = MAX_JSON_DEPTH): FieldError | null {
  const root: Place = { key: null, parent: null, depth: 0 };
  const check = (v: unknown, key: string | number, parent: Place): FieldError | null => {
    if (typeof v !== 'string') return null;
    const problem = stringProblem(v);
    return problem ? { field: fieldName({ key, parent, depth: parent.depth + 1 }, prefix), message: problem } : null;
  };
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    return problem ? { field: fieldName(root, prefix), message: problem } : null;
  }
  const stack: { value: unknown; place: Place }[] = [{ value, place: root }];
  while (stack.length > 0) {
    const { value: v, place } = stack.pop()!;
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
    if (place.depth >= maxDepth) return { field: fieldName(place, prefix), message: `must not nest deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item !== null && typeof item === 'object') stack.push({ value: item, place: { key: i, parent: place, depth: place.depth + 1 } });
        else {
          const problem = check(item, i, place);
          if (problem) return problem;
        }
      }
      continue;
    }
    for (const key of Object.keys(v)) {
      const keyProblem = stringProblem(key);
      if (keyProblem) return { field: fieldName(place, prefix), message: `has a property name that ${keyProblem}` };
      const item = (v as Record<string, unknown>)[key];
      if (item !== null && typeof item === 'object') stack.push({ value: item, place: { key, parent: place, depth: place.depth + 1 } });
      else {
        const problem = check(item, key, place);
        if (problem) return problem;
      }
    }
  }
  return null;
}
