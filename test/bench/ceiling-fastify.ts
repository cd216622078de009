// Ceiling A: a bare Fastify server doing only what every gateway request must do at minimum —
// parse the body and validate it with the same schemas (submission + payload type) through
// the same ajv catalogue — then answer 202. The gateway's throughput is reported as a share
// of this.
import Fastify from 'fastify';
import { SchemaCatalogue, SCHEMA_IDS, embeddable } from '../../services/platform/schema-catalogue.js';

const catalogue = new SchemaCatalogue().loadConnectorManifests();
const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
app.setValidatorCompiler(({ schema }) => catalogue.ajv.compile(schema));
let n = 0;
app.post<{ Body: { type: string; payload: unknown } }>('/v1/messages', { schema: { body: embeddable(catalogue, SCHEMA_IDS.submission) } }, async (req, reply) => {
  const validate = catalogue.payloadValidator(req.body.type);
  if (!validate || !validate(req.body.payload)) return reply.code(400).send({ error: 'invalid' });
  return reply.code(202).send({ id: String(++n), status: 'accepted' });
});
app.get('/healthz', async () => ({ status: 'ok' }));
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`ceiling server listening on ${url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
