// A connector's message schema with a misspelt keyword ("requried", "maxLenght") or an unknown
// format ("datetime") loaded, and Ajv ignored the rule: the gateway then accepted payloads the
// schema's author meant to refuse (a missing required field, any text as a date). The catalogue
// (gateway, runner, `lgsp connector list`) now refuses such a schema, naming the keyword, as it
// refuses a manifest's unknown key; `x-` annotation keywords still pass. A schema that is not JSON
// Schema (`"type": "strin"`) is refused naming the value and what it may be.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { writeConnectorFolder } from './helpers/connector-folder.js';

const root = mkdtempSync(join(tmpdir(), 'lgsp-schema-keywords-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'connectors');

/** Writes a schema file of the folder (the message type's, or a reply schema beside it) with `extra` merged in. */
function schemaFile(name: string, file: string, extra: Record<string, unknown>, properties: Record<string, unknown> = { parcel: { type: 'integer' } }) {
  writeFileSync(join(dir, name, 'schemas', file), JSON.stringify({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://lgsp.example.gov.vn/schemas/messages/${file.replace(/\.schema\.json$/, '')}.schema.json`,
    type: 'object',
    additionalProperties: false,
    properties,
    examples: [{ parcel: 345 }],
    ...extra,
  }));
}

writeConnectorFolder(dir, 'misspelt-required', 'land.required');
schemaFile('misspelt-required', 'land.required.schema.json', { requried: ['parcel'] });
writeConnectorFolder(dir, 'misspelt-nested', 'land.nested');
schemaFile('misspelt-nested', 'land.nested.schema.json', { required: ['parcel'] }, { parcel: { type: 'integer', maximun: 999 } });
writeConnectorFolder(dir, 'unknown-format', 'land.format');
schemaFile('unknown-format', 'land.format.schema.json', {}, { parcel: { type: 'integer' }, surveyedAt: { type: 'string', format: 'datetime' } });
writeConnectorFolder(dir, 'reply-misspelt', 'land.ask', { messageType: { replySchema: './schemas/land.answer.schema.json' } });
schemaFile('reply-misspelt', 'land.answer.schema.json', { requried: ['parcel'] });
// Not JSON Schema at all: Ajv's meta-schema words named neither the value nor what it may be.
writeConnectorFolder(dir, 'misspelt-type', 'land.type');
schemaFile('misspelt-type', 'land.type.schema.json', {}, { parcel: { type: 'integer' }, owner: { type: 'strin' } });
writeConnectorFolder(dir, 'negative-length', 'land.length');
schemaFile('negative-length', 'land.length.schema.json', {}, { parcel: { type: 'integer' }, owner: { type: 'string', maxLength: -1 } });
writeConnectorFolder(dir, 'annotated', 'land.annotated');
schemaFile('annotated', 'land.annotated.schema.json', { required: ['parcel'], 'x-lgsp-owner': 'Sở Tài nguyên và Môi trường' });

t.test('a message schema whose rule JSON Schema would ignore is refused, naming it', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir] });
  const failed = Object.fromEntries(catalogue.failedManifests.map((f) => [f.name, f.error]));
  t.match(failed['misspelt-required'], /connector misspelt-required: schema of land\.required has what JSON Schema ignores, so its rule would not be checked: unknown keyword: "requried"/);
  t.match(failed['misspelt-nested'], /unknown keyword: "maximun"/, 'in a property too');
  t.match(failed['unknown-format'], /connector unknown-format: schema of land\.format: unknown format "datetime" at "#\/properties\/surveyedAt"/);
  t.match(failed['reply-misspelt'], /connector reply-misspelt: replySchema of land\.ask has what JSON Schema ignores.*"requried"/, 'and in a reply schema');
  t.equal(failed['misspelt-type'], 'connector misspelt-type: schema of land.type is not a valid JSON Schema: properties.owner.type is "strin"; it must be a JSON Schema type: "array", "boolean", "integer", "null", "number", "object", "string"');
  t.equal(failed['negative-length'], 'connector negative-length: schema of land.length is not a valid JSON Schema: properties.owner.maxLength must be >= 0');
  for (const type of ['land.required', 'land.nested', 'land.format', 'land.ask', 'land.type', 'land.length']) t.notOk(catalogue.messageTypes.has(type), `${type} is not offered`);

  t.equal(catalogue.messageTypes.get('land.annotated')?.connector, 'annotated', 'x- annotations are no mistake');
  t.notOk(catalogue.payloadValidator('land.annotated')!({}), 'and its rules are checked');
  t.equal(catalogue.messageTypes.get('notice.send')?.connector, 'relay', 'the project connectors still load');
  t.same(catalogue.failedManifests.map((f) => f.name).sort(), ['misspelt-nested', 'misspelt-required', 'misspelt-type', 'negative-length', 'reply-misspelt', 'unknown-format']);
});
