// A message schema copied from elsewhere often declares draft-07. The catalogue (gateway, runner,
// `lgsp connector list`) refuses it; the reason must say that the dialect is what to change, not
// ajv's 'no schema with key or ref "http://json-schema.org/draft-07/schema#"'.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { writeConnectorFolder } from './helpers/connector-folder.js';

const root = mkdtempSync(join(tmpdir(), 'lgsp-schema-dialect-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'connectors');
writeConnectorFolder(dir, 'draft-seven', 'land.seven', { schemaDialect: 'http://json-schema.org/draft-07/schema#' });
writeConnectorFolder(dir, 'draft-2020', 'land.twenty');
writeConnectorFolder(dir, 'no-dialect', 'land.plain', { schemaDialect: null });

t.test('a message schema in another JSON Schema dialect is refused with the dialect named', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir] });
  const failed = Object.fromEntries(catalogue.failedManifests.map((f) => [f.name, f.error]));
  t.match(failed['draft-seven'], /connector draft-seven: schema of land\.seven declares "\$schema": "http:\/\/json-schema\.org\/draft-07\/schema#"; message schemas are JSON Schema draft 2020-12/);
  t.notOk(catalogue.messageTypes.has('land.seven'));
  t.equal(catalogue.messageTypes.get('land.twenty')?.connector, 'draft-2020', 'draft 2020-12 loads');
  t.equal(catalogue.messageTypes.get('land.plain')?.connector, 'no-dialect', 'and so does a schema that names no dialect');
});
