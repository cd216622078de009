// Which methods a path answers, learnt from the routes as Fastify registers them (an onRoute
// hook): a request for a path that exists under other methods is answered 405 with an `Allow`
// header (RFC 9110 §15.5.6) instead of 404, so a client that used the wrong method is told so.
// Patterns are Fastify's route syntax as used here: static segments, `:param` (optionally with
// a regex, treated as any one segment) and a trailing `*`.

const PARAM_OR_WILDCARD = /:[A-Za-z0-9_]+(?:\([^)]*\))?|\*/g;
const REGEX_SPECIALS = /[.+?^${}()|[\]\\]/g;

/**
 * A Fastify route pattern as a regular expression over request paths. `acrossSlashes`: a
 * parameter may take several segments (what a client meant that left a '/' in a value
 * unencoded).
 */
export function routePattern(url: string, acrossSlashes = false): RegExp {
  let source = '';
  let last = 0;
  for (const m of url.matchAll(PARAM_OR_WILDCARD)) {
    source += url.slice(last, m.index).replace(REGEX_SPECIALS, '\\$&') + (m[0] === '*' ? '.*' : acrossSlashes ? '.+' : '[^/]+');
    last = m.index + m[0].length;
  }
  source += url.slice(last).replace(REGEX_SPECIALS, '\\$&');
  return new RegExp(`^${source}$`);
}

export class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp; loose: RegExp; methods: Set<string>; wrongMethodMembers: Record<string, string> }>();

  /** `wrongMethodMembers`: what a 405 for this path adds to its problem (the route's config). */
  add(url: string, method: string | string[], wrongMethodMembers?: Record<string, string>): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: routePattern(url), loose: routePattern(url, true), methods: new Set(), wrongMethodMembers: {} };
      this.routes.set(url, route);
    }
    for (const m of Array.isArray(method) ? method : [method]) route.methods.add(m.toUpperCase());
    Object.assign(route.wrongMethodMembers, wrongMethodMembers);
  }

  /** The members the routes of `path` add to a 405's problem (none for most). */
  wrongMethodMembers(path: string): Record<string, string> {
    const members: Record<string, string> = {};
    for (const route of this.routes.values()) if (route.pattern.test(path)) Object.assign(members, route.wrongMethodMembers);
    return members;
  }

  /** The methods some route answers for `path` (no query string), sorted; empty when none does. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    // HEAD is there too where GET is: Fastify registers (and reports to onRoute) a HEAD route for each GET.
    for (const route of this.routes.values()) if (route.pattern.test(path)) route.methods.forEach((m) => methods.add(m));
    return [...methods].sort();
  }

  /**
   * `path` without its trailing '/' when a route takes that path with `method` (a client that
   * joins a base URL with 'v1/messages/', as Django-style URLs end); null otherwise.
   */
  withoutTrailingSlash(path: string, method: string): string | null {
    const trimmed = path.replace(/\/+$/, '');
    return trimmed !== path && trimmed !== '' && this.allowed(trimmed).includes(method.toUpperCase()) ? trimmed : null;
  }

  /**
   * The route `path` was meant for if a parameter's value had its '/' percent-encoded (a
   * DocumentId, `000.00.00.H49,2026/03/05,125/QĐ-UBND`, sent raw in GET /v1/documents/{id}); null
   * when there is none.
   */
  withUnencodedSlash(path: string, method: string): string | null {
    for (const [url, route] of this.routes) if (route.methods.has(method.toUpperCase()) && !route.pattern.test(path) && route.loose.test(path)) return url;
    return null;
  }
}
