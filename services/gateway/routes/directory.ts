// GET /v1/services (what the caller may use), GET /v1/members, GET /v1/schemas (the index) and
// GET /v1/schemas/{type} (a payload schema, or a request type's reply schema as <type>.reply).
import type { FastifyInstance } from 'fastify';
import { problems } from '../../platform/problem.js';
import { replySchemaName } from '../../platform/schema-catalogue.js';
import type { GatewayContext } from '../gateway-context.js';
import { okResponse, problemResponsesWithCodes } from '../../platform/openapi-shapes.js';
import { byCodeUnits } from '../../platform/code-unit-order.js';
import { NO_QUERY_PARAMETERS } from '../../platform/unknown-query-parameters.js';

const schemaUrl = (name: string): string => `/v1/schemas/${encodeURIComponent(name)}`;

/**
 * These lists take no filter. `?member=…` on /v1/services or `?level=…` on /v1/members was
 * ignored and the whole list answered, read by the caller as the filtered one: an unknown query
 * parameter is refused here as on every read of the gateway (unknown-query-parameters.ts).
 */

export async function directoryRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  /** Where a type's schemas are published: its payload's, and its reply's for a request/reply type. */
  const schemaLinks = (type: string): { schema: string; replySchema?: string } => ({
    schema: schemaUrl(type),
    ...(ctx.catalogue.messageTypes.get(type)?.replySchema ? { replySchema: schemaUrl(replySchemaName(type)) } : {}),
  });

  app.get('/v1/services', {
    config: { auth: true, conditional: true },
    schema: { tags: ['directory'], summary: 'Services the caller may use (X-Road allowedMethods)', querystring: NO_QUERY_PARAMETERS, security: [{ bearer: [] }], response: { ...okResponse('`{services: [{code, name, provider: {member, name}, messageTypes: [{type, schema, replySchema?}]}]}` (`replySchema` for request/reply types)') } },
  }, async (req) => {
    const registry = ctx.registry();
    return {
      services: registry.allowedServices(req.caller!.clientId).map((s) => ({
        code: s.code,
        name: s.name,
        provider: { member: s.provider, name: registry.member(s.provider)?.name },
        messageTypes: s.messageTypes.map((type) => ({ type, ...schemaLinks(type) })),
      })),
    };
  });

  app.get('/v1/members', {
    config: { auth: true, conditional: true },
    schema: { tags: ['directory'], summary: 'The member directory', querystring: NO_QUERY_PARAMETERS, security: [{ bearer: [] }], response: { ...okResponse('`{members: [{code, name, level, parent}]}`') } },
  }, async () => ({
    members: ctx.registry().members.map((m) => ({ code: m.code, name: m.name, level: m.level, parent: m.parent })),
  }));

  // The index of message types, for integrators and generators: each type's connector, whether it
  // is sent as a request (POST /v1/requests) or a message (POST /v1/messages), and its schemas' URLs
  // (a request's reply has a schema too: it is what POST /v1/requests answers).
  app.get('/v1/schemas', {
    config: { conditional: true },
    schema: {
      tags: ['directory'],
      summary: 'Every message type on the bus, with the URL of its payload schema (and of its reply schema for request/reply types)',
      querystring: NO_QUERY_PARAMETERS,
      response: okResponse('`{types: [{type, connector, description?, sentWith, schema, replySchema?}]}` (`replySchema` for request/reply types)'),
    },
  }, async () => ({
    types: [...ctx.catalogue.messageTypes.values()]
      .sort((a, b) => byCodeUnits(a.type, b.type))
      .map((info) => ({
        type: info.type,
        connector: info.connector,
        ...(info.description ? { description: info.description } : {}),
        sentWith: info.requestReply ? 'POST /v1/requests' : 'POST /v1/messages',
        ...schemaLinks(info.type),
      })),
  }));

  app.get<{ Params: { type: string } }>('/v1/schemas/:type', {
    config: { conditional: true },
    schema: {
      tags: ['directory'],
      summary: 'JSON Schema of a message type\'s payload, or of a request/reply type\'s reply (`{type}` = `<type>.reply`, e.g. dossier.lookup.reply)',
      response: { ...okResponse('The JSON Schema (draft 2020-12)', ['application/schema+json']), ...problemResponsesWithCodes({ 404: ['UNKNOWN_MESSAGE_TYPE'] }) },
    },
  }, async (req, reply) => {
    const schema = ctx.catalogue.publishedSchema(req.params.type);
    if (!schema) throw problems.notFound('UNKNOWN_MESSAGE_TYPE', `No message type ${req.params.type}`);
    return reply.type('application/schema+json').send(schema);
  });
}
