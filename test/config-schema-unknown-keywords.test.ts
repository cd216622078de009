// A connector's configSchema with a misspelt keyword ("deafult", "minimun") compiled, and Ajv
// ignored it: the default was never filled in, the limit never checked, and nothing said so.
// validateConnectorConfig (the runner's load and the SDK harness alike) now refuses it, naming
// the keyword; `x-` annotation keywords still pass.
import t from 'tap';
import { defineConnector } from '@lgsp/sdk';
import { validateConnectorConfig } from '@lgsp/sdk/config-validation';
import { testConnector } from '@lgsp/sdk/testing';

const withConfigSchema = (configSchema: Record<string, unknown>) => defineConnector({ name: 'configured', configSchema, async handle() {} });

t.test('a configSchema keyword JSON Schema would ignore is refused', async (t) => {
  const misspeltDefault = withConfigSchema({ type: 'object', additionalProperties: false, properties: { timeoutMs: { type: 'integer', deafult: 5000 } } });
  t.throws(() => validateConnectorConfig(misspeltDefault, {}), { message: 'connector configured: its configSchema has what JSON Schema ignores, so its rule would not be applied: unknown keyword: "deafult"' });
  await t.rejects(testConnector(misspeltDefault), /unknown keyword: "deafult"/, 'the harness refuses it as the runner does');

  const misspeltLimit = withConfigSchema({ type: 'object', properties: { timeoutMs: { type: 'integer', minimun: 100 } } });
  t.throws(() => validateConnectorConfig(misspeltLimit, { timeoutMs: 1 }), /unknown keyword: "minimun"/);

  const annotated = withConfigSchema({ type: 'object', 'x-ui-order': ['timeoutMs'], properties: { timeoutMs: { type: 'integer', minimum: 100, default: 5000, description: 'How long' } } });
  t.same(validateConnectorConfig(annotated, {}), { timeoutMs: 5000 }, 'defaults filled in; x- annotations pass');
  t.throws(() => validateConnectorConfig(annotated, { timeoutMs: 1 }), /invalid configuration: \/timeoutMs must be >= 100/);
});
