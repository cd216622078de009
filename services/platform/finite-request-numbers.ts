// Ajv's type coercion (Fastify's default for querystrings and path parameters, which the audit
// API and the console use) turns "1e400" or "Infinity" into Infinity and then skips
// minimum/maximum, which are only checked on finite numbers: `?before=1e400` passed validation
// and reached PostgreSQL as "Infinity" (a 500), as did `/dead-letters/1e400/replay`. Runs after
// validation and refuses any such number as the validation error it is.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { fieldErrorsDetail, problems, type FieldError } from './problem.js';

function nonFinite(part: 'querystring' | 'params', values: unknown): FieldError[] {
  if (values === null || typeof values !== 'object') return [];
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(values)) {
    const list: unknown[] = Array.isArray(value) ? value : [value];
    if (list.some((v) => typeof v === 'number' && !Number.isFinite(v))) errors.push({ field: `${part}.${name}`, message: 'must be a finite number' });
  }
  return errors;
}

export const finiteRequestNumbers = fp(async function finiteRequestNumbers(app: FastifyInstance) {
  app.addHook('preHandler', async (req: FastifyRequest) => {
    const errors = [...nonFinite('params', req.params), ...nonFinite('querystring', req.query)];
    if (errors.length > 0) throw problems.validation(fieldErrorsDetail(errors), errors);
  });
});
