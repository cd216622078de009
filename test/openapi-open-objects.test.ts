// Object schemas that name no members, in the documents a client generator reads. JSON Schema
// takes any members there; openapi-typescript typed `{type: "object"}` as `Record<string, never>`,
// so a client generated from the gateway's document could not send a report's `figures` nor read
// an inbox item's `data`, and one from the audit service's could not read an event's `detail`,
// without a cast. Every such schema in both served documents must say it is open, and the
// documents must still validate what they validated before (the examples of every message type).
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startTestBus } from './helpers/test-bus.js';
import { startAuditService } from '../services/audit/audit-service.js';

const MEMBER_KEYWORDS = ['properties', 'additionalProperties', 'patternProperties', 'unevaluatedProperties', 'propertyNames', '$ref', 'allOf', 'anyOf', 'oneOf', 'if', 'not'];
const VALUE_KEYWORDS = new Set(['example', 'examples', 'default', 'const', 'enum']);

/** JSON pointers of the object schemas that name no members and do not say whether others are allowed. */
function closedLooking(value: unknown, at = '#'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => closedLooking(v, `${at}/${i}`));
  if (!value || typeof value !== 'object') return [];
  const node = value as Record<string, unknown>;
  const here = (node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'))) && !MEMBER_KEYWORDS.some((k) => k in node) ? [at] : [];
  return [...here, ...Object.entries(node).flatMap(([k, v]) => (VALUE_KEYWORDS.has(k) ? [] : closedLooking(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)))];
}

t.test('object schemas without members are open in the served OpenAPI documents', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-open-objects', runner: false });
  const audit = await startAuditService({ ...bus.config }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => audit.stop());
  type Doc = { paths: Record<string, any>; components: { schemas: Record<string, any> } };
  const gateway = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as Doc;
  const auditDoc = (await (await fetch(`${audit.url}/openapi.json`)).json()) as Doc;

  t.same(closedLooking(gateway), [], 'gateway: no object schema reads as one that holds nothing');
  t.same(closedLooking(auditDoc), [], 'audit: none either');
  t.equal(gateway.components.schemas['report.submit'].properties.figures.additionalProperties, true, 'a report\'s figures take the members of its report type');
  t.equal(gateway.paths['/v1/inbox/{id}'].get.responses['200'].content['application/json'].schema.properties.data.additionalProperties, true, 'an inbox item\'s data is the payload, whatever its type');
  const entry = auditDoc.paths['/v1/audit/events'].get.responses['200'].content['application/json'].schema.properties.entries.items.properties.event;
  t.equal(entry.properties.detail.additionalProperties, true, 'an audit event\'s detail holds its reasons and attempts');

  // The same validation as before: every example of every type, and a report without its figures refused.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(gateway, 'doc');
  for (const [name, schema] of Object.entries(gateway.components.schemas)) {
    if (!schema['x-lgsp-connector']) continue;
    const validate = ajv.compile({ $ref: `doc#/components/schemas/${name}` });
    for (const [i, example] of ((schema.examples ?? []) as unknown[]).entries()) t.ok(validate(example), `${name} example ${i} still valid`);
  }
  const report = ajv.compile({ $ref: 'doc#/components/schemas/report.submit' });
  const example = gateway.components.schemas['report.submit'].examples[0] as { figures: Record<string, unknown> };
  t.notOk(report({ ...example, figures: { unexpected: 1 } }), 'figures that are not its report type\'s are still refused');
});
