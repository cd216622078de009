// A connector's configuration checked against its configSchema, with the schema's defaults
// filled in: the runtime does this when it loads a connector, the test harness does the same,
// so a configuration that passes in a unit test passes in the runner.
import { Ajv } from 'ajv';
import type { ConnectorDefinition } from './index.js';

export function validateConnectorConfig<Config>(definition: Pick<ConnectorDefinition<Config>, 'name' | 'configSchema'>, raw: unknown): Config {
  const config = structuredClone((raw ?? {}) as Record<string, unknown>);
  if (!definition.configSchema) return config as Config;
  let validate;
  // strictSchema 'log': what Ajv would ignore is reported here and refused below. A misspelt
  // keyword ("deafult", "minimun") left its default unfilled or its limit unchecked without a word.
  const ignored: string[] = [];
  const logger = { log: () => undefined, warn: (...args: unknown[]) => void ignored.push(args.map(String).join(' ')), error: console.error };
  try {
    validate = new Ajv({ allErrors: true, useDefaults: true, strict: false, strictSchema: 'log', logger }).compile(definition.configSchema);
  } catch (err) {
    throw new Error(`connector ${definition.name}: its configSchema is not a valid JSON Schema: ${(err as Error).message}`);
  }
  const reasons = [...new Set(ignored.map((w) => w.replace(/^strict mode: /, '')))].filter((w) => !/^unknown keyword: "x-/.test(w));
  if (reasons.length > 0) throw new Error(`connector ${definition.name}: its configSchema has what JSON Schema ignores, so its rule would not be applied: ${reasons.join('; ')}`);
  if (!validate(config)) {
    // Name an unknown key: it is usually a misspelt setting ("timeoutMS") whose value is lost.
    const details = (validate.errors ?? [])
      .map((e) => e.keyword === 'additionalProperties'
        ? `${e.instancePath || '(root)'} has unknown property "${String(e.params.additionalProperty)}"`
        : `${e.instancePath || '(root)'} ${e.message}`)
      .join('; ');
    throw new Error(`connector ${definition.name}: invalid configuration: ${details}`);
  }
  return config as Config;
}
