// A connector's configuration checked against its configSchema, with the schema's defaults
// filled in: the runtime does this when it loads a connector, the test harness does the same,
// so a configuration that passes in a unit test passes in the runner.
import { Ajv } from 'ajv';
import type { ConnectorDefinition } from './index.js';

export function validateConnectorConfig<Config>(definition: Pick<ConnectorDefinition<Config>, 'name' | 'configSchema'>, raw: unknown): Config {
  const config = structuredClone((raw ?? {}) as Record<string, unknown>);
  if (!definition.configSchema) return config as Config;
  let validate;
  try {
    validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(definition.configSchema);
  } catch (err) {
    throw new Error(`connector ${definition.name}: its configSchema is not a valid JSON Schema: ${(err as Error).message}`);
  }
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
