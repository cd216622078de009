// The operations of an OpenAPI document: every entry of a path item under an HTTP method (a path
// item's other members, `parameters` and `summary`, are not operations). One walk for the
// document transforms (openapi-common-responses.ts, openapi-response-headers.ts,
// openapi-public-operations.ts), which each change the operations in place.
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Each operation with its method (lower case, as the document keys it) and path. */
export function* operationsOf<Op extends object>(document: unknown): Generator<[method: string, path: string, operation: Op]> {
  const paths = (document as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item ?? {})) {
      if (METHODS.has(method) && op && typeof op === 'object') yield [method, path, op as Op];
    }
  }
}
