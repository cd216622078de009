// GET /v1/services (what the caller may use), GET /v1/members, GET /v1/schemas (the index) and
// GET /v1/schemas/{type}.
import type { FastifyInstance } from 'fastify';
import { problems } from '../../platform/problem.js';
import type { GatewayContext } from '../gateway-context.js';
import { okResponse, problemResponses } from '../../platform/openapi-shapes.js';

export async function directoryRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.get('/v1/services', {
    config: { auth: true },
    schema: { tags: ['directory'], summary: 'Services the caller may use (X-Road allowedMethods)', security: [{ bearer: [] }], response: { ...okResponse('`{services: [{code, name, provider: {member, name}, messageTypes: [{type, schema}]}]}`'), ...problemResponses(401) } },
  }, async (req) => {
    const registry = ctx.registry();
    return {
      services: registry.allowedServices(req.caller!.clientId).map((s) => ({
        code: s.code,
        name: s.name,
        provider: { member: s.provider, name: registry.member(s.provider)?.name },
        messageTypes: s.messageTypes.map((type) => ({ type, schema: `/v1/schemas/${encodeURIComponent(type)}` })),
      })),
    };
  });

  app.get('/v1/members', {
    config: { auth: true },
    schema: { tags: ['directory'], summary: 'The member directory', security: [{ bearer: [] }], response: { ...okResponse('`{members: [{code, name, level, parent}]}`'), ...problemResponses(401) } },
  }, async () => ({
    members: ctx.registry().members.map((m) => ({ code: m.code, name: m.name, level: m.level, parent: m.parent })),
  }));

  // The index of message types, for integrators and generators: each type's connector, whether it
  // is sent as a request (POST /v1/requests) or a message (POST /v1/messages), and its schema's URL.
  app.get('/v1/schemas', {
    schema: { tags: ['directory'], summary: 'Every message type on the bus, with the URL of its payload schema', response: okResponse('`{types: [{type, connector, description?, sentWith, schema}]}`') },
  }, async () => ({
    types: [...ctx.catalogue.messageTypes.values()]
      .sort((a, b) => a.type.localeCompare(b.type))
      .map((info) => ({
        type: info.type,
        connector: info.connector,
        ...(info.description ? { description: info.description } : {}),
        sentWith: info.requestReply ? 'POST /v1/requests' : 'POST /v1/messages',
        schema: `/v1/schemas/${encodeURIComponent(info.type)}`,
      })),
  }));

  app.get<{ Params: { type: string } }>('/v1/schemas/:type', {
    schema: { tags: ['directory'], summary: 'JSON Schema of a message type\'s payload', response: { ...okResponse('The JSON Schema (draft 2020-12)', ['application/schema+json']), ...problemResponses(404) } },
  }, async (req, reply) => {
    const info = ctx.catalogue.messageTypes.get(req.params.type);
    if (!info) throw problems.notFound('UNKNOWN_MESSAGE_TYPE', `No message type ${req.params.type}`);
    return reply.type('application/schema+json').send(info.schema);
  });
}
