// The files in which npm start keeps secrets (dev clients' keys and secrets, the mock portal's
// password, the reporting system's API key) are the owner's alone, also when they were already
// there with wider modes: restored from a backup, copied without their modes, made by hand.
import t from 'tap';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDevRegistry } from '../services/stack/dev-credentials.js';
import { prepareDossierDemo } from '../services/mock-portal/dev-setup.js';
import { prepareReportingDemo } from '../services/reporting-simulator/dev-setup.js';
import { seedRegistry } from './helpers/test-bus.js';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

t.test('every start leaves the secret files 0600 and the clients directory 0700', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-private-files-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const seeds = seedRegistry();
  const start = async () => {
    const { clientsDir } = await prepareDevRegistry({ seeds, dataDir, tokenUrl: 'http://127.0.0.1:8080/v1/token' });
    prepareDossierDemo({ dataDir, portalUrl: 'http://127.0.0.1:9', gatewayUrl: 'http://127.0.0.1:8080', clientsDir });
    prepareReportingDemo({ dataDir, simulatorUrl: 'http://127.0.0.1:9' });
    return clientsDir;
  };
  const clientsDir = await start();
  const secretFiles = [...readdirSync(clientsDir).map((f) => join(clientsDir, f)), join(dataDir, 'mock-portal-account.json'), join(dataDir, 'reporting-api-key')];
  t.ok(secretFiles.length > 3, `${secretFiles.length} secret files`);
  for (const f of secretFiles) t.equal(mode(f), '600', `first start: ${f.slice(dataDir.length)}`);
  t.equal(mode(clientsDir), '700', 'first start: clients/');

  // As a restore or a copy without modes leaves them: readable by everyone.
  for (const f of secretFiles) chmodSync(f, 0o644);
  chmodSync(clientsDir, 0o755);
  await start();
  for (const f of secretFiles) t.equal(mode(f), '600', `next start: ${f.slice(dataDir.length)} is narrowed again`);
  t.equal(mode(clientsDir), '700', 'next start: clients/ is narrowed again');
});

// The registry npm start writes holds every secret system's scrypt hash (the operator's and the
// observer's console logins among them) beside the keys and endpoints: it was written 0644, so any
// local user could take the hashes away to guess at offline. It is the owner's alone now, at every start.
t.test('the dev registry, holding secret hashes, is 0600 at every start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-private-registry-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { registryFile } = await prepareDevRegistry({ seeds: seedRegistry(), dataDir, tokenUrl: 'http://127.0.0.1:8080/v1/token' });
  t.match(readFileSync(registryFile, 'utf8'), /"secretHash": "scrypt\$/, 'it holds secret hashes');
  t.equal(mode(registryFile), '600', 'first start');
  chmodSync(registryFile, 0o644);
  await prepareDevRegistry({ seeds: seedRegistry(), dataDir, tokenUrl: 'http://127.0.0.1:8080/v1/token' });
  t.equal(mode(registryFile), '600', 'next start: narrowed again');
});
