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
  private readonly routes = new Map<string, { pattern: RegExp; loose: RegExp; methods: Set<string> }>();

  add(url: string, method: string | string[]): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: routePattern(url), loose: routePattern(url, true), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const m of Array.isArray(method) ? method : [method]) route.methods.add(m.toUpperCase());
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
