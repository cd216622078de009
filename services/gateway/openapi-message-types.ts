// Every message type's payload schema as an OpenAPI component (components.schemas.<type>), so
// the OpenAPI document describes what POST /v1/messages accepts for each type — including the
// types a connector added through its manifest — and client generators can use them. A
// request/reply type's reply schema is a component too (<type>.reply), since it is what
// POST /v1/requests answers. The schemas are JSON Schema 2020-12, which OpenAPI 3.1 takes as is;
// only their internal references are re-rooted under the component
// (#/$defs/x → #/components/schemas/<name>/$defs/x).
import { replySchemaName, type SchemaCatalogue } from '../platform/schema-catalogue.js';
import type { GatewayModule } from '../platform/gateway-module.js';
import { byCodeUnits } from '../platform/code-unit-order.js';

function reroot(value: unknown, base: string): unknown {
  if (Array.isArray(value)) return value.map((v) => reroot(v, base));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${base}/${v.slice(2)}` : reroot(v, base);
    }
    return out;
  }
  return value;
}

/** A schema as the component `name`, with where it comes from and where GET /v1/schemas serves it. */
function component(name: string, source: Record<string, unknown>, extensions: Record<string, unknown>): Record<string, unknown> {
  const { $id: id, $schema: _dialect, ...schema } = source;
  return {
    ...(reroot(schema, `#/components/schemas/${name}`) as Record<string, unknown>),
    ...extensions,
    'x-lgsp-schema-id': id,
    'x-lgsp-schema-url': `/v1/schemas/${encodeURIComponent(name)}`,
  };
}

/** components.schemas entries, one per message type in the catalogue (and one per reply schema), sorted by type. */
export function messageTypeComponents(catalogue: SchemaCatalogue): Record<string, Record<string, unknown>> {
  const components: Record<string, Record<string, unknown>> = {};
  for (const info of [...catalogue.messageTypes.values()].sort((a, b) => byCodeUnits(a.type, b.type))) {
    const reply = replySchemaName(info.type);
    components[info.type] = component(info.type, info.schema, {
      'x-lgsp-connector': info.connector,
      ...(info.replySchema ? { 'x-lgsp-reply-schema': `#/components/schemas/${reply}` } : {}),
    });
    if (info.replySchema) components[reply] = component(reply, info.replySchema, { 'x-lgsp-connector': info.connector, 'x-lgsp-reply-of': info.type });
  }
  return components;
}

/** A line per message type for the API description, pointing at its component. */
export function messageTypeIndex(catalogue: SchemaCatalogue): string {
  return [...catalogue.messageTypes.values()]
    .sort((a, b) => byCodeUnits(a.type, b.type))
    .map((info) => {
      const reply = info.replySchema ? `, reply schema \`#/components/schemas/${replySchemaName(info.type)}\` (sent with POST /v1/requests)` : '';
      return `- \`${info.type}\` (${info.connector})${info.description ? `: ${info.description}` : ''} — payload schema \`#/components/schemas/${info.type}\`${reply}`;
    })
    .join('\n');
}

type OpenApiDocument = { paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown>; required?: boolean } }>> };

/** The OpenAPI document with the request bodies the modules declare (openapiRequestBodies) added to their operations. */
export function withModuleRequestBodies<T>(document: T, modules: readonly GatewayModule[]): T {
  const paths = (document as OpenApiDocument).paths ?? {};
  for (const module of modules) {
    for (const [operation, bodies] of Object.entries(module.openapiRequestBodies ?? {})) {
      const [method, path] = operation.split(' ');
      const op = paths[path]?.[method.toLowerCase()];
      if (!op) continue;
      op.requestBody = { ...op.requestBody, required: true, content: { ...op.requestBody?.content, ...bodies } };
    }
  }
  return document;
}
