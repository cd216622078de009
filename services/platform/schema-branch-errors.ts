// Ajv reports every branch of a `oneOf` it could not match, the branches the value never tried
// to be included. POST /v1/messages takes `to` as one recipient or a list (a oneOf): an object
// with a malformed member code came back as "to.member must match pattern …; to must be array;
// to must match exactly one schema in oneOf" — two of the three sentences about a shape the
// caller never sent, the first of them telling it to send a list. When a branch got as far as a
// specific complaint (a member of the value, or a required or unknown property), the other
// branches' bare type mismatches and the oneOf's summary are dropped: what is left names what to
// fix. A value that matches no branch even by type (`to: 5`) keeps every error, which then says
// which types are taken. `anyOf` is left as it is: its branches are real alternatives (an
// attachment with its `content`, or with `sha256` and `size`), and its summary says so.

export interface SchemaError {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Whether `e` says something about the value at `at` itself or about a member of it (not only its type). */
function specificAt(e: SchemaError, at: string): boolean {
  const path = e.instancePath ?? '';
  if (path.startsWith(`${at}/`)) return true;
  return path === at && e.keyword !== 'type' && e.keyword !== 'oneOf' && e.keyword !== 'anyOf';
}

/** The errors without the noise of the oneOf branches the value did not take. */
export function withoutUntakenBranches<E extends SchemaError>(errors: readonly E[]): E[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  if (oneOfs.length === 0) return [...errors];
  const resolved = new Set(oneOfs.map((e) => e.instancePath ?? '').filter((at) => errors.some((e) => specificAt(e, at))));
  return errors.filter((e) => {
    const at = e.instancePath ?? '';
    if (!resolved.has(at)) return true;
    if (e.keyword === 'oneOf') return false;
    // A bare type mismatch inside one of this oneOf's branches: the branch the value did not take.
    return !(e.keyword === 'type' && /\/oneOf\/\d+\/type$/.test(e.schemaPath ?? ''));
  });
}
