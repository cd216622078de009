// The operator guide's "When Kafka or PostgreSQL is down" table, PostgreSQL column, as an operator
// sees it: a console login (client_secret_basic at the gateway, its audit record on Kafka) needs
// no database, so it works while PostgreSQL is down; a token request with a client assertion
// needs it (assertions are single-use) and gets OAuth's 503 temporarily_unavailable; the searches
// answer STATE_UNAVAILABLE. The guide said the login was refused (UPSTREAM_UNAVAILABLE) and that
// every token request got 503: an operator in an incident was told not to try the one page
// that still works.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { startLocalPostgres } from '../services/local-postgres/local-postgres.js';
import { startConsole } from '../services/console/console-service.js';
import { createClientAssertion } from '../services/platform/bus-client.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';
import { startTestBus } from './helpers/test-bus.js';

/** The PostgreSQL column of the guide's outage table row whose first cell is `row`. */
function guideCell(row: string): string {
  const guide = readFileSync(join(PROJECT_ROOT, 'docs/operator-guide.md'), 'utf8');
  const line = guide.split('\n').find((l) => l.startsWith(`| ${row} |`));
  if (!line) throw new Error(`no row "${row}" in the outage table`);
  return line.split(' | ')[2];
}

t.test('PostgreSQL down: console login works, an assertion token is 503 temporarily_unavailable, as the guide says', async (t) => {
  const postgres = await startLocalPostgres();
  t.teardown(() => postgres.stop());
  const bus = await startTestBus(t, { name: 'console-login-pg-down', runner: false, databaseServer: postgres.url });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());

  await postgres.stopServer();
  t.teardown(() => postgres.startServer());

  const login = await fetch(`${consoleSvc.url}/v1/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }),
  });
  t.equal(login.status, 200, 'an operator logs in while PostgreSQL is down');
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  const search = await fetch(`${consoleSvc.url}/v1/console/dead-letters`, { headers: { cookie } });
  t.equal(search.status, 503);
  t.match(await search.json(), { code: 'STATE_UNAVAILABLE' }, 'and the dead letters say the database is unavailable');

  const token = await fetch(`${bus.gateway.url}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await createClientAssertion(bus.clients.get('so-tttt-qlvb')!, bus.gateway.url) }),
  });
  t.equal(token.status, 503);
  t.match(await token.json(), { error: 'temporarily_unavailable' });

  const loginCell = guideCell('console login');
  t.notMatch(loginCell, /refused|UPSTREAM_UNAVAILABLE/, 'the guide does not say the login is refused');
  t.match(loginCell, /works/, 'it says it works');
  t.match(guideCell('agency systems'), /client assertion.*temporarily_unavailable/, 'the guide says which token requests get 503');
});
