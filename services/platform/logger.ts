// pino with redaction: tokens, secrets, keys and message bodies never reach the logs
// (DESIGN §5: no secrets or personal data in logs). The paths cover Fastify's request
// serialisation and our own log calls.
import { pino, type Logger } from 'pino';

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

export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    name: service,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service },
  });
}
