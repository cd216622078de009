// A credential in a query string is redacted in Fastify's "incoming request" line
// (credentials-in-url-not-logged.test.ts), but other log lines named the URL themselves, as
// `{ url: req.url }`, and wrote it whole: a client whose connection dropped mid-body after
// sending `POST /v1/messages?access_token=…` had its token logged at info ("the client closed the
// connection before its request was read"), and a late operator action on a runner likewise. The
// service logger now redacts every `url` it is given, wherever the line comes from.
import t from 'tap';
import Fastify from 'fastify';
import { createLogger } from '../services/platform/logger.js';
import { problemHandler } from '../services/platform/problem-handler.js';
import { refuseIfTooLate, START_BY_HEADER } from '../services/platform/action-start-by.js';
import { startSlowPost } from './helpers/slow-request.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzby10cC1tb3RjdWEifQ.c2lnbmF0dXJlLW9mLWEtdG9rZW4';
const SECRET = 'not-a-real-secret-9876543210';

function serviceLogger() {
  const lines: string[] = [];
  const log = createLogger('gateway', 'info', { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

const eventually = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

t.test('a client that drops mid-body: the URL it used is logged without its credentials', async (t) => {
  const { log, lines } = serviceLogger();
  const app = Fastify({ loggerInstance: log, bodyLimit: 64 * 1024 });
  await app.register(problemHandler, { maxBodyBytes: 64 * 1024 });
  app.post('/v1/messages', async (req) => ({ received: JSON.stringify(req.body).length }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;

  const dropped = await startSlowPost(port, `/v1/messages?access_token=${TOKEN}&client_secret=${SECRET}&limit=5`, { length: 4096 });
  await new Promise((r) => setTimeout(r, 200));
  dropped.destroy();
  await eventually(() => lines.some((l) => l.includes('closed the connection before its request was read')));
  const line = lines.find((l) => l.includes('closed the connection before its request was read'));
  t.ok(line, 'the dropped request is logged as what it was');
  t.notOk(lines.join('').includes('c2lnbmF0dXJlLW9mLWEtdG9rZW4'), 'the access token is not in the log');
  t.notOk(lines.join('').includes(SECRET), 'the client secret is not in the log');
  t.match(JSON.parse(line!).url, '/v1/messages?access_token=[redacted]&client_secret=[redacted]&limit=5', 'the rest of the URL is kept');
});

t.test('a late operator action: its URL is logged without credentials', async (t) => {
  const { log, lines } = serviceLogger();
  const app = Fastify({ loggerInstance: log });
  await app.register(problemHandler, { maxBodyBytes: 1024 });
  app.put('/v1/connectors/:name/pause', async (req) => {
    refuseIfTooLate(req);
    return { ok: true };
  });
  await app.ready();
  t.teardown(() => app.close());
  const answer = await app.inject({ method: 'PUT', url: `/v1/connectors/relay/pause?session=${SECRET}`, headers: { [START_BY_HEADER]: new Date(Date.now() - 5_000).toISOString() } });
  t.equal(answer.statusCode, 408);
  const line = lines.find((l) => l.includes('reached the runner after its caller stopped waiting'));
  t.ok(line, 'the late action is logged');
  t.notOk(lines.join('').includes(SECRET), 'the credential is not in the log');
  t.equal(JSON.parse(line!).url, '/v1/connectors/relay/pause?session=[redacted]');
});

t.test('a URL with a password in it is logged without the password', async (t) => {
  const { log, lines } = serviceLogger();
  log.info({ url: `https://lgsp-h49:${SECRET}@portal.example.gov.vn/api?x=1` }, 'a URL with user information');
  log.info({ url: 'http://127.0.0.1:8080' }, 'a plain URL');
  t.equal(JSON.parse(lines[0]).url, 'https://lgsp-h49:[redacted]@portal.example.gov.vn/api?x=1');
  t.equal(JSON.parse(lines[1]).url, 'http://127.0.0.1:8080', 'a URL without credentials is as it was');
  t.notOk(lines.join('').includes(SECRET));
});
