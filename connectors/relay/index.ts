// The relay connector: delivers a message as a signed webhook to the endpoint the registry
// holds for the receiving system. A 2xx from the receiver is the receipt.
import { defineConnector, PermanentError } from '@lgsp/sdk';

export default defineConnector({
  name: 'relay',
  description: 'Generic signed webhook delivery to the providing system\'s endpoint',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { timeoutMs: { type: 'integer', minimum: 100, default: 10000 } },
  },
  async handle(message, ctx) {
    const url = ctx.service.endpoint;
    if (!url) throw new PermanentError(`service ${ctx.service.code} of ${ctx.service.provider} has no delivery endpoint in the registry`);
    const response = await ctx.deliver({ url, envelope: message, timeoutMs: (ctx.config as { timeoutMs?: number }).timeoutMs });
    return { detail: { httpStatus: response.status } };
  },
});
