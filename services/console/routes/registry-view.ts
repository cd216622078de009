// The registry as an operator reads it: members, systems, services, access rights. Keys and
// secret hashes are never sent; a system shows only which client authentication it can use, and
// whether it is disabled (what an operator who revoked it looks for).
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES } from '../console-auth.js';

export async function registryRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/v1/console/registry', { config: { roles: READ_ROLES } }, async () => {
    const registry = ctx.registry();
    return {
      members: registry.members,
      systems: registry.data.systems.map((s) => ({
        clientId: s.clientId,
        member: s.member,
        name: s.name,
        roles: s.roles ?? ['agency'],
        authMethods: [...(s.auth.jwks ? ['private_key_jwt'] : []), ...(s.auth.secretHash ? ['client_secret_basic'] : [])],
        endpoint: s.endpoint ?? null,
        rateLimitPerMinute: s.rateLimitPerMinute ?? null,
        // Refused now: disabled in the registry, or by a refused file that disables it.
        disabled: ctx.standing.refusal(s.clientId) !== null,
      })),
      services: registry.services.map((s) => ({ ...s, endpoint: registry.endpointOf(s) ?? null })),
      accessRights: registry.data.accessRights,
    };
  });
}
