// Serves the console's page: static, build-free files from services/console/ui. A strict
// Content-Security-Policy allows only the console's own scripts and styles.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../../platform/project-root.js';
import { problems } from '../../platform/problem.js';

const UI_DIR = join(PROJECT_ROOT, 'services', 'console', 'ui');
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};
const FILES = ['index.html', 'console.js', 'i18n.js', 'numbers.js', 'console.css', 'favicon.svg'];
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function webUiRoutes(app: FastifyInstance): Promise<void> {
  // Read once at start: the UI is part of the build, not content that changes at run time.
  const files = new Map(FILES.map((f) => [f, readFileSync(join(UI_DIR, f))]));
  const send = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .type(TYPES[name.split('.').pop()!])
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(files.get(name));
  app.get('/', { schema: { hide: true } }, send('index.html'));
  app.get('/favicon.ico', { schema: { hide: true } }, send('favicon.svg'));
  app.get<{ Params: { file: string } }>('/ui/:file', { schema: { hide: true } }, async (req, reply) => {
    if (!files.has(req.params.file)) throw problems.notFound('ROUTE_NOT_FOUND', `No file ${req.params.file}`);
    return send(req.params.file)(req, reply);
  });
}
