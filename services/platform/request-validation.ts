// Fastify's default validator coerces types in every part of a request (`coerceTypes: 'array'`):
// right for the query string and path parameters, which arrive as text (`?limit=50`), wrong for a
// JSON body, where a wrong type is the caller's mistake to be told about. A console bulk replay
// took `{"dryRun":"true"}`, `{"max":[5]}` and `{"connector":["relay"]}` as if well typed, and a
// login `{"clientId":["lgsp-operator"],…}` signed in. This compiler keeps Fastify's options
// (formats included) for the other parts and compiles body schemas without coercion, as the
// gateway's catalogue does (schema-catalogue.ts).
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

/** Fastify's defaults (@fastify/ajv-compiler), which `customOptions` override as Fastify's `ajv.customOptions` would. */
const FASTIFY_DEFAULTS: Options = { coerceTypes: 'array', useDefaults: true, removeAdditional: true, addUsedSchema: false, allErrors: false };

export function bodiesUncoercedValidator(customOptions: Options = {}): FastifySchemaCompiler<unknown> {
  const options = { ...FASTIFY_DEFAULTS, ...customOptions };
  const coercing = addFormats(new Ajv(options));
  const exact = addFormats(new Ajv({ ...options, coerceTypes: false }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema as object);
}
