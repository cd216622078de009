// Every read of the gateway refuses a query parameter it does not take (400 VALIDATION_FAILED,
// `querystring.<name>`: unknown property), as the directory's lists did first: `?member=…` on
// /v1/services was ignored and the whole list read as the filtered one, and `GET
// /v1/messages/{id}?foo=1` answered as if the parameter meant something. Deny by default: a GET
// route that declares no query parameters takes none (and its OpenAPI operation says so), and
// one that declares some must refuse the others — a route that would not is a startup error,
// not a parameter silently ignored.
import type { FastifyInstance, RouteOptions } from 'fastify';

/** The query schema of a read that takes no parameter. */
export const NO_QUERY_PARAMETERS = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Adds NO_QUERY_PARAMETERS to the GET routes registered from here on that declare none. */
export function refuseUnknownQueryParameters(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = [route.method].flat().map((m) => m.toUpperCase());
    if (!methods.includes('GET') && !methods.includes('HEAD')) return;
    // Pages and files outside the API (the OpenAPI UI's, /openapi.json, /metrics) are not documented operations.
    const schema = route.schema as ({ hide?: boolean; querystring?: { additionalProperties?: unknown } } & Record<string, unknown>) | undefined;
    if (schema?.hide === true) return;
    if (!schema?.querystring) {
      route.schema = { ...schema, querystring: NO_QUERY_PARAMETERS };
      return;
    }
    if (schema.querystring.additionalProperties !== false) {
      throw new Error(`GET ${route.url}: its querystring schema must say additionalProperties: false (an unknown query parameter is refused, never ignored)`);
    }
  });
}
