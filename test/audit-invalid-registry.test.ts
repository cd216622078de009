// An audit service started while the registry file is there but not valid (restarted during a bad
// edit) took every access token on its signature alone for as long as it ran: a disabled
// operator's, a client the file does not list, a role the registry no longer grants. It now checks
// tokens against the clients the file lists until the file is valid, then against the registry.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../services/platform/config.js';
import { issueAccessToken } from '../services/platform/access-token.js';
import { startAuditService } from '../services/audit/audit-service.js';
import type { RegistryData } from '../services/platform/registry.js';
import { createTestDatabase } from './helpers/test-database.js';
import { grantTestAcls, testKafkaSettings } from './helpers/test-kafka.js';
import { createTestKeys } from './helpers/test-keys.js';
import { eventually, seedRegistry } from './helpers/test-bus.js';
import { entryFingerprint, secretCredential } from '../services/platform/token-binding.js';

/** A secret hash of the form the registry takes: tokens are bound to the entry's credentials (token-binding.ts). */
const SECRET_HASH = 'scrypt$dGVzdC1zYWx0$dGVzdC1oYXNo';

t.test('an audit started on an invalid registry file checks tokens against it, then against the valid one', async (t) => {
  const dataDir = t.testdir();
  const keys = await createTestKeys(dataDir);
  const database = await createTestDatabase('audit-invalid-registry');
  t.teardown(() => database.drop());
  const registryFile = join(dataDir, 'registry.json');
  const seeds = seedRegistry();
  for (const system of seeds.systems) if (system.clientId === 'lgsp-operator' || system.clientId === 'lgsp-observer') system.auth = { secretHash: SECRET_HASH };
  const bad: RegistryData = structuredClone(seeds);
  bad.systems.find((s) => s.clientId === 'lgsp-operator')!.disabled = true;
  writeFileSync(registryFile, JSON.stringify({ ...bad, unexpected: true }));
  const config = loadConfig(
    {
      ...testKafkaSettings(),
      dataDir,
      keysDir: keys.keysDir,
      jwksFile: keys.jwksFile,
      databaseUrl: database.url,
      registryFile,
      topicPrefix: `t${Date.now()}-${process.pid}-`,
      topicPartitions: 1,
      issuer: 'http://127.0.0.1:8080',
      logLevel: 'silent',
    },
    {},
  );
  await grantTestAcls(config.topicPrefix);
  const audit = await startAuditService(config);
  t.teardown(() => audit.stop());
  const tokenKey = await keys.signing('gateway', 'token');
  const status = async (clientId: string, roles: ('operator' | 'observer')[]) => {
    const member = seeds.systems.find((s) => s.clientId === clientId)?.member ?? '000.00.12.H49';
    const entry = entryFingerprint(member, secretCredential(SECRET_HASH));
    const token = await issueAccessToken(tokenKey, config.issuer, { clientId, member, roles, entry }, 300);
    return (await fetch(`${audit.url}/v1/audit/events`, { headers: { authorization: `Bearer ${token}` } })).status;
  };

  t.equal(await status('lgsp-operator', ['operator']), 401, 'a client the invalid file disables is refused');
  t.equal(await status('not-registered', ['operator']), 401, 'a client it does not list is refused');
  t.equal(await status('lgsp-observer', ['observer']), 200, 'a client it lists, not disabled, is taken');

  // The file made valid: the registry decides, roles included.
  const fixed: RegistryData = structuredClone(seeds);
  fixed.systems.find((s) => s.clientId === 'lgsp-observer')!.roles = ['agency'];
  writeFileSync(registryFile, JSON.stringify(fixed));
  await eventually(async () => (await status('lgsp-operator', ['operator'])) === 200, 15_000);
  t.equal(await status('lgsp-observer', ['observer']), 403, 'a role the registry no longer grants is not used');
  t.equal(await status('not-registered', ['operator']), 401);
});
