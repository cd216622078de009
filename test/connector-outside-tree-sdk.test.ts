// A connector kept outside the project's tree (a directory of LGSP_CONNECTOR_DIRS such as a
// mounted /srv/lgsp/connectors) imports the SDK by its package name like every connector: Node
// found no `@lgsp/sdk` from there (the SDK is on no registry to install beside it) and the
// connector failed with "Cannot find package '@lgsp/sdk'". The runner now provides its own SDK to
// the connectors it hosts, so the connector loads, and the error classes it throws are the very
// ones the runtime classifies.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermanentError, RetryableError, isRetryable } from '@lgsp/sdk';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { loadConnector } from '../services/runner/connector-loader.js';

function write(file: string, content: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

t.test('a connector outside the tree imports @lgsp/sdk by name and gets the runner\'s', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lgsp-outside-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'connectors');
  const folder = join(dir, 'land-registry');
  write(join(folder, 'package.json'), { name: 'land-registry', type: 'module', private: true });
  write(join(folder, 'connector.json'), { name: 'land-registry', entry: './index.js', messageTypes: [{ type: 'land.parcel', schema: './schemas/land.parcel.schema.json' }] });
  write(join(folder, 'schemas', 'land.parcel.schema.json'), {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://lgsp.example.gov.vn/schemas/messages/land.parcel.schema.json',
    type: 'object',
    additionalProperties: false,
    required: ['parcel'],
    properties: { parcel: { type: 'integer' } },
    examples: [{ parcel: 345 }],
  });
  write(join(folder, 'index.js'), `import { defineConnector, PermanentError, RetryableError } from '@lgsp/sdk';
import { secretEnvName } from '@lgsp/sdk/secrets';
export default defineConnector({
  name: 'land-registry',
  async health() { return { ok: true, detail: secretEnvName('land-registry', 'apiKey') }; },
  async handle(message) {
    if (message.data.parcel < 0) throw new PermanentError('no such parcel');
    throw new RetryableError('the registry is busy');
  },
});
`);

  const catalogue = new SchemaCatalogue().loadConnectors({ connectorDirs: [dir] });
  t.same(catalogue.failedManifests, [], 'the manifest reads');
  const manifest = catalogue.manifests.find((m) => m.name === 'land-registry')!;
  t.ok(manifest, 'found in the directory');
  const loaded = await loadConnector(catalogue.root, manifest);
  t.equal(loaded.definition.name, 'land-registry', 'imported: @lgsp/sdk resolved from outside the tree');
  t.same(await loaded.definition.health!.call(loaded.definition), { ok: true, detail: 'LGSP_SECRET_LAND_REGISTRY_API_KEY' }, 'a subpath of the SDK too');

  const failure = async (parcel: number) => {
    try {
      await loaded.definition.handle({ data: { parcel } } as never, {} as never);
    } catch (err) {
      return err;
    }
    return null;
  };
  const permanent = await failure(-1);
  t.ok(permanent instanceof PermanentError, "its PermanentError is the runner's");
  t.equal(isRetryable(permanent), false);
  const retryable = await failure(1);
  t.ok(retryable instanceof RetryableError, "and its RetryableError");
  t.equal(isRetryable(retryable), true);
});
