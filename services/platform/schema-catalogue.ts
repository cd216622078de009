// One ajv instance for every JSON Schema in schemas/ (draft 2020-12). Message types come from
// connector manifests (connectors/*/connector.json): the gateway learns which types exist and
// which schema validates each without importing connector code (DESIGN §2).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { PROJECT_ROOT } from './project-root.js';
import { contestedTypeRefusals, registeredConnectorsByType } from './message-type-ownership.js';
import { manifestInPackage, manifestsInDirectory, resolveManifestPath, sameFolderKey, type DiscoveredManifest, type ManifestOrigin } from './connector-discovery.js';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

export interface ConnectorManifest {
  name: string;
  description?: string;
  /** Module (relative to the package root) whose default export is the defineConnector() result. */
  entry: string;
  messageTypes: { type: string; schema: string; replySchema?: string; description?: string }[];
  /**
   * Set by discovery, never written in connector.json: the directory `entry` is relative to
   * (the project root for connectors/, the package root for packages). Absent = project root.
   */
  baseDir?: string;
  /** Set by discovery: where the connector came from (a connectors directory or `package <name>`). */
  source?: string;
}

/** A connector whose manifest could not be taken: the runner reports it as failed, the rest run. */
export interface FailedManifest {
  name: string;
  source: string;
  error: string;
}

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
export const MANIFEST_SCHEMA_ID = 'https://lgsp.example.gov.vn/schemas/connector-manifest.schema.json';

export interface MessageTypeInfo {
  type: string;
  connector: string;
  description?: string;
  schema: Record<string, unknown>;
  /** The type declares a reply (a `replySchema`): it is sent with POST /v1/requests, which waits for it. */
  requestReply: boolean;
  /** The reply's schema, for request/reply types: published as `<type>.reply` (replySchemaName). */
  replySchema?: Record<string, unknown>;
}

/**
 * The name a request type's reply schema is published under, beside the payload schemas:
 * GET /v1/schemas/<type>.reply and components.schemas.<type>.reply in the OpenAPI document
 * (the name its schema file and the request schema's description already use). No message type
 * may take such a name (addManifest), so a name always means one schema.
 */
export function replySchemaName(type: string): string {
  return `${type}.reply`;
}

export class SchemaCatalogue {
  readonly ajv: Ajv2020;
  readonly messageTypes = new Map<string, MessageTypeInfo>();
  readonly manifests: ConnectorManifest[] = [];
  /** Manifests that were found but refused (unreadable, invalid, conflicting), with the reason. */
  readonly failedManifests: FailedManifest[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly manifestFolders = new Set<string>();
  /** What Ajv reports it ignores, collected while a connector's schema compiles (connectorValidator). */
  private ignoredBySchema: string[] | null = null;

  constructor(readonly root = PROJECT_ROOT) {
    // strictSchema 'log': Ajv reports what it would ignore (an unknown keyword) to the logger, and
    // refuses an unknown format. A connector schema with either is refused (connectorValidator);
    // elsewhere (route schemas with OpenAPI's `example`, x-lgsp-* annotations) it stays silent.
    this.ajv = new Ajv2020({
      allErrors: true,
      strict: false,
      strictSchema: 'log',
      coerceTypes: false,
      logger: { log: () => undefined, warn: (...args: unknown[]) => void this.ignoredBySchema?.push(args.map(String).join(' ')), error: console.error },
    });
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

  /**
   * Reads <dir>/<name>/connector.json for every connector folder (default: the project's
   * connectors/). A manifest that cannot be taken lands in failedManifests; the others load.
   */
  loadConnectorManifests(dir = join(this.root, 'connectors')): this {
    if (!existsSync(dir)) return this;
    return this.takeAll(manifestsInDirectory(dir), undefined);
  }

  /**
   * Every connector the configuration names: the project's connectors/, then LGSP_CONNECTOR_DIRS,
   * then LGSP_CONNECTOR_PACKAGES (package names resolved from the project root, or directories).
   * A message type declared by two connectors goes to the one the registry names for it
   * (message-type-ownership.ts), never to whichever folder sorts first.
   */
  loadConnectors(sources: { connectorDirs?: string[]; connectorPackages?: string[]; registryFile?: string } = {}): this {
    const projectDir = join(this.root, 'connectors');
    const found = existsSync(projectDir) ? manifestsInDirectory(projectDir) : [];
    for (const dir of sources.connectorDirs ?? []) found.push(...manifestsInDirectory(dir));
    for (const spec of sources.connectorPackages ?? []) found.push(manifestInPackage(spec, this.root));
    return this.takeAll(found, sources.registryFile);
  }

  private takeAll(found: DiscoveredManifest[], registryFile: string | undefined): this {
    const distinct = found.filter((f) => {
      if (f.error) return true;
      const folder = sameFolderKey(f.origin.manifestDir);
      if (this.manifestFolders.has(folder)) return false; // the same connector reached twice
      this.manifestFolders.add(folder);
      return true;
    });
    const validManifest = this.validator(MANIFEST_SCHEMA_ID);
    const refusals = contestedTypeRefusals(distinct, registeredConnectorsByType(registryFile), (m) => validManifest(m));
    for (const f of distinct) this.take(refusals.has(f) ? { ...f, error: refusals.get(f) } : f);
    return this;
  }

  private take(found: DiscoveredManifest): void {
    if (found.error) {
      const seen = this.failedManifests.some((f) => f.name === found.name && f.source === found.origin.source && f.error === found.error);
      if (!seen) this.failedManifests.push({ name: found.name, source: found.origin.source, error: found.error });
      return;
    }
    try {
      this.addManifest(found.manifest as ConnectorManifest, found.origin);
    } catch (err) {
      this.failedManifests.push({ name: found.name, source: found.origin.source, error: (err as Error).message });
    }
  }

  /**
   * Validates a manifest and its message-type schemas, then registers them, all or nothing:
   * the manifest must match schemas/connector-manifest.schema.json, its name and message types
   * must be new, every schema must have an $id and at least one example that it accepts.
   * Without an origin, paths are relative to the project root (connectors/ convention).
   */
  addManifest(declared: ConnectorManifest, origin?: ManifestOrigin): void {
    const where = origin ?? { baseDir: this.root, manifestDir: this.root, source: join(this.root, 'connectors') };
    const validateManifest = this.validator(MANIFEST_SCHEMA_ID);
    if (!validateManifest(declared)) {
      // Name an unknown key: it is usually a misspelt optional one ("replyShema", "retries")
      // that would otherwise be ignored without a word.
      const details = (validateManifest.errors ?? [])
        .map((e) => e.keyword === 'additionalProperties'
          ? `${e.instancePath || '(root)'} has unknown property "${String(e.params.additionalProperty)}"`
          : `${e.instancePath || '(root)'} ${e.message}`)
        .join('; ');
      throw new Error(`connector.json of ${(declared as { name?: string })?.name ?? where.manifestDir} is invalid: ${details}`);
    }
    const name = declared.name;
    const clash = this.manifests.find((m) => m.name === name);
    if (clash) throw new Error(`connector ${name}: the name is already taken by the connector from ${clash.source ?? 'connectors/'}`);
    const manifest: ConnectorManifest = {
      ...declared,
      entry: this.entryFor(declared.entry, where),
      messageTypes: declared.messageTypes.map((mt) => ({ ...mt })),
      ...(origin ? { baseDir: origin.baseDir, source: origin.source } : {}),
    };
    const toRegister: { id: string; schema: Record<string, unknown>; what: string }[] = [];
    const infos: MessageTypeInfo[] = [];
    // Reply schemas are published under <type>.reply: a message type with such a name would make
    // GET /v1/schemas/<name> and the OpenAPI component ambiguous.
    const replyNames = new Map<string, string>();
    for (const info of this.messageTypes.values()) if (info.requestReply) replyNames.set(replySchemaName(info.type), info.type);
    for (const mt of manifest.messageTypes) if (mt.replySchema) replyNames.set(replySchemaName(mt.type), mt.type);
    for (const mt of manifest.messageTypes) {
      const owner = this.messageTypes.get(mt.type);
      if (owner || infos.some((i) => i.type === mt.type)) throw new Error(`connector ${name}: message type ${mt.type} is already declared${owner ? ` by connector ${owner.connector}` : ' twice'}`);
      const replyOf = replyNames.get(mt.type);
      if (replyOf) throw new Error(`connector ${name}: message type ${mt.type} is the name of the reply schema of ${replyOf}`);
      if (mt.replySchema && this.messageTypes.has(replySchemaName(mt.type))) {
        throw new Error(`connector ${name}: the reply schema of ${mt.type} is published as ${replySchemaName(mt.type)}, already a message type of connector ${this.messageTypes.get(replySchemaName(mt.type))!.connector}`);
      }
      for (const key of ['schema', 'replySchema'] as const) {
        if (!mt[key]) continue;
        const file = resolveManifestPath(where, mt[key]);
        let schema: Record<string, unknown>;
        try {
          schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        } catch (err) {
          throw new Error(`connector ${name}: ${key} of ${mt.type} (${mt[key]}): ${(err as Error).message}`);
        }
        const id = schema.$id;
        if (typeof id !== 'string' || !id) throw new Error(`connector ${name}: ${key} of ${mt.type} has no $id`);
        // A schema copied from elsewhere often names draft-07; ajv's own refusal ("no schema with
        // key or ref …") does not say that the dialect is what to change.
        if (schema.$schema !== undefined && schema.$schema !== DRAFT_2020_12) {
          throw new Error(`connector ${name}: ${key} of ${mt.type} declares "$schema": ${JSON.stringify(schema.$schema)}; message schemas are JSON Schema draft 2020-12 ("$schema": "${DRAFT_2020_12}")`);
        }
        // Unknown payload fields are refused at the gateway, never passed on unchecked (a field
        // nobody agreed to carry, e.g. personal data, must not ride along).
        if (key === 'schema' && schema.additionalProperties !== false && schema.unevaluatedProperties !== false) {
          throw new Error(`connector ${name}: schema of ${mt.type} must set "additionalProperties": false (or "unevaluatedProperties": false) so unknown fields are refused`);
        }
        const known = this.ajv.getSchema(id)?.schema;
        if (known !== undefined && JSON.stringify(known) !== JSON.stringify(schema)) throw new Error(`connector ${name}: ${key} of ${mt.type}: $id ${id} is already used by a different schema`);
        if (known === undefined && !toRegister.some((r) => r.id === id)) toRegister.push({ id, schema, what: `${key} of ${mt.type}` });
        // Other services (e.g. the gateway's request/reply route) join schema paths to the
        // catalogue root; keep that working for connectors found elsewhere.
        mt[key] = relative(this.root, file);
        if (key === 'schema') infos.push({ type: mt.type, connector: name, description: mt.description, schema, requestReply: Boolean(mt.replySchema) });
        // 'schema' comes first (and is required), so the type's info is the last one pushed.
        else infos[infos.length - 1].replySchema = schema;
      }
    }
    const added: string[] = [];
    try {
      for (const r of toRegister) {
        const invalid = this.ajv.validateSchema(r.schema) ? null : invalidSchemaReason(r.schema, this.ajv.errors ?? []);
        if (invalid) throw new Error(`connector ${name}: ${r.what} is not a valid JSON Schema: ${invalid}`);
        this.ajv.addSchema(r.schema);
        added.push(r.id);
      }
      for (const info of infos) {
        const validate = this.connectorValidator(name, info.type, 'schema', info.schema.$id as string);
        if (info.replySchema) this.connectorValidator(name, info.type, 'replySchema', info.replySchema.$id as string);
        const examples = info.schema.examples;
        if (!Array.isArray(examples) || examples.length === 0) throw new Error(`connector ${name}: the schema of ${info.type} has no examples (every message type carries at least one valid example)`);
        examples.forEach((example, i) => {
          if (!validate(example)) {
            const details = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
            throw new Error(`connector ${name}: example ${i + 1} of ${info.type} does not match its own schema: ${details}`);
          }
        });
      }
    } catch (err) {
      for (const id of added) {
        this.ajv.removeSchema(id);
        this.validators.delete(id);
      }
      throw err instanceof Error && err.message.startsWith(`connector ${name}`) ? err : new Error(`connector ${name}: ${(err as Error).message}`);
    }
    this.manifests.push(manifest);
    for (const info of infos) this.messageTypes.set(info.type, info);
  }

  /** The entry relative to the base directory (how the runner loads it), or absolute when it names a file with its extension. */
  private entryFor(entry: string, origin: ManifestOrigin): string {
    const absolute = resolveManifestPath(origin, entry);
    return /\.(m?js|cjs|m?ts)$/.test(extname(entry)) ? absolute : relative(origin.baseDir, absolute);
  }

  /**
   * A connector schema's validator, refusing what Ajv would silently ignore: a misspelt keyword
   * ("requried", "maxLenght") or an unknown format ("datetime") leaves its rule unchecked, so the
   * gateway would accept payloads the schema's author meant to refuse. `x-` keywords are
   * annotations and pass.
   */
  private connectorValidator(connector: string, type: string, key: 'schema' | 'replySchema', id: string): ValidateFunction {
    const ignored: string[] = [];
    this.ignoredBySchema = ignored;
    let validate: ValidateFunction;
    try {
      validate = this.validator(id);
    } catch (err) {
      const reason = (err as Error).message.replace(/^(unknown format "[^"]*") ignored in schema at path/, '$1 at');
      throw new Error(`connector ${connector}: ${key} of ${type}: ${reason} (a format the bus does not know would let any value through)`);
    } finally {
      this.ignoredBySchema = null;
    }
    const reasons = [...new Set(ignored.map((w) => w.replace(/^strict mode: /, '')))].filter((w) => !/^unknown keyword: "x-/.test(w));
    if (reasons.length > 0) throw new Error(`connector ${connector}: ${key} of ${type} has what JSON Schema ignores, so its rule would not be checked: ${reasons.join('; ')}`);
    return validate;
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

  /** The schema published under a name (GET /v1/schemas/{name}): a type's payload schema, or a request type's reply schema under <type>.reply. */
  publishedSchema(name: string): Record<string, unknown> | undefined {
    const info = this.messageTypes.get(name);
    if (info) return info.schema;
    for (const candidate of this.messageTypes.values()) if (candidate.replySchema && replySchemaName(candidate.type) === name) return candidate.replySchema;
    return undefined;
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
  request: 'https://lgsp.example.gov.vn/schemas/request.schema.json',
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

const JSON_SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

/**
 * Why a schema is not JSON Schema, in the schema author's terms. Ajv checks a schema against the
 * meta-schema and says so in the meta-schema's words: `"type": "strin"` read "data/properties/name/type
 * must be equal to one of the allowed values, … must be array, … must match a schema in anyOf",
 * naming neither the value nor what it may be. The alternatives an anyOf tried are left out
 * where one of them names the allowed values.
 */
export function invalidSchemaReason(schema: unknown, errors: ReadonlyArray<{ instancePath: string; keyword: string; message?: string; params?: Record<string, unknown> }>): string {
  const segments = (path: string) => path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const where = (path: string) => (path === '' ? 'the schema' : segments(path).join('.'));
  const valueAt = (path: string) => (path === '' ? schema : segments(path).reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), schema));
  const reasons: string[] = [];
  const explained = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'enum' || !Array.isArray(e.params?.allowedValues)) continue;
    // An array of types with one wrong item: the item is named, not the array.
    if (errors.some((o) => o.instancePath.startsWith(`${e.instancePath}/`))) continue;
    const allowed = e.params.allowedValues as unknown[];
    const isType = /\/type(\/\d+)?$/.test(e.instancePath) && allowed.every((v) => JSON_SCHEMA_TYPES.includes(v as string));
    reasons.push(`${where(e.instancePath)} is ${JSON.stringify(valueAt(e.instancePath))}; it must be ${isType ? 'a JSON Schema type' : 'one of'}: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`);
    explained.add(e.instancePath);
  }
  for (const e of errors) {
    if ([...explained].some((path) => path === e.instancePath || path.startsWith(`${e.instancePath}/`))) continue;
    reasons.push(`${where(e.instancePath)} ${e.message ?? 'is invalid'}`);
    explained.add(e.instancePath);
  }
  return [...new Set(reasons)].join('; ');
}
