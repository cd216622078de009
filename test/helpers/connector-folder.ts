// A connector folder as an integrator writes one — connector.json and one message schema — for
// tests of what the schema catalogue (gateway, runner, `lgsp connector list`) makes of it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function writeJson(file: string, content: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(content, null, 2));
}

export interface ConnectorFolderOptions {
  /** Extra keys of connector.json. */
  manifest?: Record<string, unknown>;
  /** Extra keys of the message type's entry in connector.json. */
  messageType?: Record<string, unknown>;
  /** The schema's "$schema" (default draft 2020-12; null: none). */
  schemaDialect?: string | null;
}

/** Writes `<dir>/<name>/connector.json` offering `type`, and its schema (one integer field, with an example). */
export function writeConnectorFolder(dir: string, name: string, type: string, opts: ConnectorFolderOptions = {}): void {
  const dialect = opts.schemaDialect === undefined ? 'https://json-schema.org/draft/2020-12/schema' : opts.schemaDialect;
  writeJson(join(dir, name, 'connector.json'), {
    name,
    entry: './index',
    messageTypes: [{ type, schema: `./schemas/${type}.schema.json`, ...opts.messageType }],
    ...opts.manifest,
  });
  writeJson(join(dir, name, 'schemas', `${type}.schema.json`), {
    ...(dialect ? { $schema: dialect } : {}),
    $id: `https://lgsp.example.gov.vn/schemas/messages/${type}.schema.json`,
    type: 'object',
    additionalProperties: false,
    required: ['parcel'],
    properties: { parcel: { type: 'integer' } },
    examples: [{ parcel: 345 }],
  });
}
