// Ajv's type coercion (Fastify's default for querystrings, which the audit API and the console
// use) turns "1e400" or "Infinity" into Infinity and then skips minimum/maximum, which are only
// checked on finite numbers: `?before=1e400` passed validation and reached PostgreSQL as
// "Infinity" (a 500). Runs after validation and refuses any such number as the validation error
// it is.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { problems, type FieldError } from './problem.js';

function nonFinite(query: unknown): FieldError[] {
  if (query === null || typeof query !== 'object') return [];
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(query)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'number' && !Number.isFinite(v))) errors.push({ field: `querystring.${name}`, message: 'must be a finite number' });
  }
  return errors;
}

export const finiteQueryNumbers = fp(async function finiteQueryNumbers(app: FastifyInstance) {
  app.addHook('preHandler', async (req: FastifyRequest) => {
    const errors = nonFinite(req.query);
    if (errors.length > 0) throw problems.validation(`Invalid querystring: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, errors);
  });
});
