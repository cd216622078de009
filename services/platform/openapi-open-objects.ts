// An object schema that names no members (`{type: "object"}`: a message's `data`, an event's
// `detail`, a report's `figures`) takes any members in JSON Schema; client generators read it
// otherwise — openapi-typescript types it `Record<string, never>`, an object that can hold
// nothing, so a generated client could neither send a report's figures nor read an event's
// detail without a cast. Each such schema in a served OpenAPI document says so itself
// (`additionalProperties: true`), which validates exactly as before. The document is copied
// first: Fastify may still hold the objects it was built from as route schemas.

const MEMBER_KEYWORDS = ['properties', 'additionalProperties', 'patternProperties', 'unevaluatedProperties', 'propertyNames', '$ref', 'allOf', 'anyOf', 'oneOf', 'if', 'not'];

const VALUE_KEYWORDS = new Set(['example', 'examples', 'default', 'const', 'enum']);

function isObjectType(type: unknown): boolean {
  return type === 'object' || (Array.isArray(type) && type.includes('object'));
}

function open(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(open);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  // Values, not schemas: an example or a constant that happens to hold `type: "object"` stays as written.
  for (const [k, v] of Object.entries(value)) out[k] = VALUE_KEYWORDS.has(k) ? v : open(v);
  if (isObjectType(out.type) && !MEMBER_KEYWORDS.some((k) => k in out)) out.additionalProperties = true;
  return out;
}

/** A copy of the document in which every object schema that names no members is explicitly open. */
export function withOpenObjects<T>(document: T): T {
  return open(document) as T;
}
