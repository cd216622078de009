// One ajv instance for every JSON Schema in schemas/ (draft 2020-12). Message types come from
// connector manifests (connectors/*/connector.json): the gateway learns which types exist and
// which schema validates each without importing connector code (DESIGN §2).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { PROJECT_ROOT } from './project-root.js';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

export interface ConnectorManifest {
  name: string;
  description?: string;
  /** Module (relative to the package root) whose default export is the defineConnector() result. */
  entry: string;
  messageTypes: { type: string; schema: string; description?: string }[];
}

export interface MessageTypeInfo {
  type: string;
  connector: string;
  description?: string;
  schema: Record<string, unknown>;
}

export class SchemaCatalogue {
  readonly ajv: Ajv2020;
  readonly messageTypes = new Map<string, MessageTypeInfo>();
  readonly manifests: ConnectorManifest[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly root = PROJECT_ROOT) {
    this.ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false });
    addFormats(this.ajv);
    for (const file of this.schemaFiles(join(root, 'schemas'))) {
      this.ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')));
    }
  }

  private *schemaFiles(dir: string): Generator<string> {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) yield* this.schemaFiles(p);
      else if (entry.name.endsWith('.schema.json')) yield p;
    }
  }

  /** Reads connectors/<name>/connector.json for every connector folder. */
  loadConnectorManifests(dir = join(this.root, 'connectors')): this {
    if (!existsSync(dir)) return this;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = join(dir, entry.name, 'connector.json');
      if (entry.isDirectory() && existsSync(file)) this.addManifest(JSON.parse(readFileSync(file, 'utf8')));
    }
    return this;
  }

  addManifest(manifest: ConnectorManifest): void {
    this.manifests.push(manifest);
    for (const mt of manifest.messageTypes) {
      const schema = JSON.parse(readFileSync(join(this.root, mt.schema), 'utf8'));
      this.messageTypes.set(mt.type, { type: mt.type, connector: manifest.name, description: mt.description, schema });
    }
  }

  /** Validator for a schema by its $id (or a path under schemas/, resolved to the $id). */
  validator(id: string): ValidateFunction {
    let v = this.validators.get(id);
    if (!v) {
      v = this.ajv.getSchema(id);
      if (!v) throw new Error(`unknown schema ${id}`);
      this.validators.set(id, v);
    }
    return v;
  }

  payloadValidator(type: string): ValidateFunction | null {
    const info = this.messageTypes.get(type);
    if (!info) return null;
    return this.validator(info.schema.$id as string);
  }
}

export const SCHEMA_IDS = {
  envelope: 'https://lgsp.example.gov.vn/schemas/envelope.schema.json',
  submission: 'https://lgsp.example.gov.vn/schemas/submission.schema.json',
  registry: 'https://lgsp.example.gov.vn/schemas/registry/registry.schema.json',
};

export type { ErrorObject };

/** A copy of a registered schema without $id/$schema, for embedding in route schemas (OpenAPI). */
export function embeddable(catalogue: SchemaCatalogue, id: string): Record<string, unknown> {
  const schema = catalogue.ajv.getSchema(id)?.schema as Record<string, unknown> | undefined;
  if (!schema) throw new Error(`unknown schema ${id}`);
  const { $id: _id, $schema: _schema, ...rest } = schema;
  return rest;
}
