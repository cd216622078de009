// A misspelt key in connector.json ("replyShema", "retries") used to be ignored without a word:
// the connector loaded, its replies went unchecked, its retry budget stayed the default. The
// manifest schema refuses unknown keys, and the refusal names the key, on the same path the
// gateway, the runner and `lgsp connector list` take (SchemaCatalogue.loadConnectors).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { writeConnectorFolder } from './helpers/connector-folder.js';

const root = mkdtempSync(join(tmpdir(), 'lgsp-manifest-keys-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'connectors');
writeConnectorFolder(dir, 'misspelt-retry', 'land.retry', { manifest: { retries: { maxAgeSeconds: 604800 } } });
writeConnectorFolder(dir, 'misspelt-reply', 'land.reply', { messageType: { replyShema: './schemas/land.reply.schema.json' } });
writeConnectorFolder(dir, 'with-schema-key', 'land.ok', { manifest: { $schema: 'https://lgsp.example.gov.vn/schemas/connector-manifest.schema.json' } });

t.test('an unknown key in connector.json refuses the connector and names the key', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir] });
  const failed = Object.fromEntries(catalogue.failedManifests.map((f) => [f.name, f.error]));
  t.match(failed['misspelt-retry'], /connector\.json of misspelt-retry is invalid: \(root\) has unknown property "retries"/);
  t.match(failed['misspelt-reply'], /connector\.json of misspelt-reply is invalid: \/messageTypes\/0 has unknown property "replyShema"/);
  t.notOk(catalogue.messageTypes.has('land.retry'), 'the misspelt manifest offers no message type');
  t.notOk(catalogue.messageTypes.has('land.reply'));
  t.equal(failed['with-schema-key'], undefined, 'a "$schema" key for editors is not an unknown key');
  t.equal(catalogue.messageTypes.get('land.ok')?.connector, 'with-schema-key');
});
