// pino with redaction: tokens, secrets, keys and message bodies never reach the logs
// (DESIGN §5: no secrets or personal data in logs). The paths cover Fastify's request
// serialisation and our own log calls.
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'access_token',
  'client_assertion',
  'client_secret',
  'password',
  'privateJwk',
  'payload',
  'data',
  '*.payload',
  '*.data',
  '*.password',
  'kafkaSaslPassword',
  '*.kafkaSaslPassword',
  '*.access_token',
  '*.client_assertion',
];

export type { Logger };

/**
 * Query parameters whose value is a credential: a client that puts its access token in the URL
 * (RFC 6750 §2.3's `access_token`, which no service takes) or its client secret or assertion
 * (which RFC 6749 forbids there) is refused, but at LOG_LEVEL debug every request's URL is logged.
 */
const CREDENTIAL_PARAMETER = /token|secret|assertion|passw|api[-_]?key|session|signature/i;

/** `scheme://user:password@`: the password of a URL's user information (RFC 3986 §3.2.1). */
const USERINFO_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)[^/?#@]*@/i;

/**
 * A URL as it may be logged: the value of every credential-like query parameter is `[redacted]`,
 * and so is the password of an absolute URL's user information.
 */
export function loggableUrl(url: string): string {
  url = url.replace(USERINFO_PASSWORD, '$1[redacted]@');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // a name that does not decode is judged as it is
    }
    return CREDENTIAL_PARAMETER.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
  });
  return `${url.slice(0, q + 1)}${query.join('&')}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * Fastify's request serialiser (the fields of its "incoming request" line) with the URL's
 * credentials redacted. A service's logger hands it to Fastify, which takes the logger's own
 * serialisers over its defaults.
 */
function loggedRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? loggableUrl(req.url) : req.url,
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** `destination`: where the lines go (standard output when left out; tests read them). */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service },
    // `url` too, whoever logs one: Fastify's request line is not the only line naming a request's
    // URL (a client that drops mid-body, a late operator action), and a line naming any other URL
    // (a configured endpoint) must not carry a password either.
    serializers: { req: loggedRequest, url: (url: unknown) => (typeof url === 'string' ? loggableUrl(url) : url) },
  };
  return destination ? pino(options, destination) : pino(options);
}
