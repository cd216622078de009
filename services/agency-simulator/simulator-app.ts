// Demo agency systems: one HTTP endpoint per seeded system (POST /<clientId>) that receives
// relay deliveries the way a real QLVB would — verify the platform's JWS against the JWKS,
// answer 2xx as the receipt, ignore duplicates by LGSP-Message-Id. Operators and tests can
// make a system fail or go down to watch retries and dead letters.
import Fastify, { type FastifyInstance } from 'fastify';
import { compactVerify, type JWTVerifyGetKey } from 'jose';
import type { Envelope } from '../platform/envelope.js';
import { controlProblems } from '../platform/control-problems.js';

export interface ReceivedMessage {
  id: string;
  type: string;
  from: Envelope['from'];
  correlationId: string;
  payloadDigest: string;
  receivedAt: string;
  /** The kid of the delivery key that signed it (shows a rotation taking effect). */
  signedBy: string;
  envelope: Envelope;
}

type Mode =
  | { mode: 'ok' }
  | { mode: 'down' }
  | { mode: 'fail'; remaining: number; status: number }
  | { mode: 'reject' }
  /** Answers every delivery, each after delayMs (a slow receiving system). */
  | { mode: 'slow'; delayMs: number };

/** How far a delivery's signing time may be from this system's clock. */
const DELIVERY_MAX_AGE_SECONDS = 300;

/**
 * How many received messages each system keeps (the newest; each holds its whole envelope).
 * Without a bound a stack left running grew by every message delivered (about 1.7 KB each: at 15
 * notices a second, 1.5 MB a minute, toward the 1 GiB heap limit within half a day) and each
 * delivery's duplicate check scanned them all.
 */
export const RECEIVED_KEPT_PER_SYSTEM = 10_000;

export interface SimulatorState {
  /** The newest messages each system took (at most `keepPerSystem`), oldest first. */
  received: Map<string, ReceivedMessage[]>;
  /** How many distinct messages each system took, those no longer kept included. */
  taken: Map<string, number>;
  attempts: Map<string, number>;
  modes: Map<string, Mode>;
}

export async function buildAgencySimulator(
  getKey: JWTVerifyGetKey,
  opts: { keepPerSystem?: number } = {},
): Promise<{ app: FastifyInstance; state: SimulatorState }> {
  const keep = opts.keepPerSystem ?? RECEIVED_KEPT_PER_SYSTEM;
  const state: SimulatorState = { received: new Map(), taken: new Map(), attempts: new Map(), modes: new Map() };
  // The ids of the kept messages, per system: the duplicate check without a scan of the list.
  const keptIds = new Map<string, Set<string>>();
  const app = Fastify({ logger: false, bodyLimit: 25 * 1024 * 1024 });
  // Its own refusals (a fault mode it does not know) are problem+json; its answers to deliveries
  // are a simulated receiving system's (the bus reads their status only).
  controlProblems(app);
  app.addContentTypeParser('application/jose', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post<{ Params: { system: string }; Body: string }>('/:system', async (req, reply) => {
    const system = req.params.system;
    state.attempts.set(system, (state.attempts.get(system) ?? 0) + 1);
    const mode = state.modes.get(system) ?? { mode: 'ok' };
    if (mode.mode === 'down') return reply.code(503).header('retry-after', '1').send({ error: 'system down (simulated)' });
    if (mode.mode === 'reject') return reply.code(422).send({ error: 'refused by the receiving system (simulated)' });
    if (mode.mode === 'fail' && mode.remaining > 0) {
      mode.remaining--;
      return reply.code(mode.status).send({ error: 'simulated failure' });
    }
    if (mode.mode === 'slow') await new Promise((r) => setTimeout(r, mode.delayMs));
    let envelope: Envelope;
    let signedBy: string;
    let signedAt: unknown;
    try {
      const { payload, protectedHeader } = await compactVerify(String(req.body), getKey, { algorithms: ['ES256'] });
      if (protectedHeader.typ !== 'lgsp-delivery+jws') throw new Error('unexpected JWS type');
      envelope = JSON.parse(new TextDecoder().decode(payload)) as Envelope;
      signedBy = String(protectedHeader.kid);
      // What a careful receiver checks: the delivery is meant for its member, and recent.
      if (protectedHeader.aud !== envelope.to.member) throw new Error(`delivery is for ${String(protectedHeader.aud)}, not ${envelope.to.member}`);
      if (typeof protectedHeader.iat !== 'number') throw new Error('delivery signature has no iat');
      signedAt = protectedHeader.iat;
    } catch (err) {
      return reply.code(401).send({ error: `signature rejected: ${(err as Error).message}` });
    }
    // Recent by this system's clock. A signature far off it means a clock is wrong (here or on the
    // bus) far more often than a replay: the bus signs every attempt anew, so this is answered as a
    // retryable failure (nothing is taken either way) and the message arrives once the clocks agree.
    // A 4xx here would dead-letter every message while the clock is off.
    const off = Math.round(Date.now() / 1000 - (signedAt as number));
    if (Math.abs(off) > DELIVERY_MAX_AGE_SECONDS) {
      return reply.code(503).header('retry-after', '30').send({ error: `delivery signature iat is ${Math.abs(off)} s ${off > 0 ? 'old' : 'ahead'} by this system's clock (more than ${DELIVERY_MAX_AGE_SECONDS} s): check the clocks; try again` });
    }
    if (req.headers['lgsp-message-id'] !== envelope.id) return reply.code(400).send({ error: 'LGSP-Message-Id does not match the signed message' });
    const list = state.received.get(system) ?? [];
    state.received.set(system, list);
    let ids = keptIds.get(system);
    if (!ids) keptIds.set(system, (ids = new Set()));
    if (!ids.has(envelope.id)) {
      ids.add(envelope.id);
      state.taken.set(system, (state.taken.get(system) ?? 0) + 1);
      list.push({
        id: envelope.id,
        type: envelope.type,
        from: envelope.from,
        correlationId: envelope.correlationId,
        payloadDigest: envelope.payloadDigest,
        receivedAt: new Date().toISOString(),
        signedBy,
        envelope,
      });
      // The oldest go once the system holds its share (a duplicate of one of them is then taken again).
      while (list.length > keep) ids.delete(list.shift()!.id);
    }
    return { received: envelope.id };
  });

  app.get<{ Params: { system: string } }>('/_admin/systems/:system/received', async (req) => ({
    system: req.params.system,
    attempts: state.attempts.get(req.params.system) ?? 0,
    taken: state.taken.get(req.params.system) ?? 0,
    messages: (state.received.get(req.params.system) ?? []).map(({ envelope: _e, ...meta }) => meta),
  }));

  app.put<{ Params: { system: string }; Body: { mode: 'ok' | 'down' | 'reject' | 'fail' | 'slow'; failures?: number; status?: number; delayMs?: number } }>(
    '/_admin/systems/:system/mode',
    {
      // A mode it does not know ("dwon") is refused: taken, it left the system answering every
      // delivery while the operator rehearsing an outage waited for retries.
      schema: {
        body: {
          type: 'object',
          required: ['mode'],
          additionalProperties: false,
          properties: {
            mode: { enum: ['ok', 'down', 'reject', 'fail', 'slow'] },
            failures: { type: 'integer', minimum: 1 },
            status: { type: 'integer', minimum: 400, maximum: 599 },
            delayMs: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    async (req) => {
      const { mode, failures = 1, status = 503, delayMs = 1000 } = req.body;
      state.modes.set(
        req.params.system,
        mode === 'fail' ? { mode, remaining: failures, status } : mode === 'slow' ? { mode, delayMs } : ({ mode } as Mode),
      );
      return { system: req.params.system, mode };
    },
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  return { app, state };
}
