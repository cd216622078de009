// A message schema copied from elsewhere often declares draft-07. The catalogue (gateway, runner,
// `lgsp connector list`) refuses it; the reason must say that the dialect is what to change, not
// ajv's 'no schema with key or ref "http://json-schema.org/draft-07/schema#"'.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';

function write(file: string, content: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(content, null, 2));
}

function folder(dir: string, name: string, type: string, dialect: string | undefined): void {
  write(join(dir, name, 'connector.json'), { name, entry: './index', messageTypes: [{ type, schema: `./schemas/${type}.schema.json` }] });
  write(join(dir, name, 'schemas', `${type}.schema.json`), {
    ...(dialect ? { $schema: dialect } : {}),
    $id: `https://lgsp.example.gov.vn/schemas/messages/${type}.schema.json`,
    type: 'object',
    additionalProperties: false,
    required: ['parcel'],
    properties: { parcel: { type: 'integer' } },
    examples: [{ parcel: 345 }],
  });
}

const root = mkdtempSync(join(tmpdir(), 'lgsp-schema-dialect-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'connectors');
folder(dir, 'draft-seven', 'land.seven', 'http://json-schema.org/draft-07/schema#');
folder(dir, 'draft-2020', 'land.twenty', 'https://json-schema.org/draft/2020-12/schema');
folder(dir, 'no-dialect', 'land.plain', undefined);

t.test('a message schema in another JSON Schema dialect is refused with the dialect named', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir] });
  const failed = Object.fromEntries(catalogue.failedManifests.map((f) => [f.name, f.error]));
  t.match(failed['draft-seven'], /connector draft-seven: schema of land\.seven declares "\$schema": "http:\/\/json-schema\.org\/draft-07\/schema#"; message schemas are JSON Schema draft 2020-12/);
  t.notOk(catalogue.messageTypes.has('land.seven'));
  t.equal(catalogue.messageTypes.get('land.twenty')?.connector, 'draft-2020', 'draft 2020-12 loads');
  t.equal(catalogue.messageTypes.get('land.plain')?.connector, 'no-dialect', 'and so does a schema that names no dialect');
});
