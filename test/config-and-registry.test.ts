import t from 'tap';
import { loadConfig, ConfigError } from '../services/platform/config.js';
import { Registry, RegistryError } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { seedRegistry } from './helpers/test-bus.js';
import { backoffStep, retryDelayMs } from '../services/runner/retry-policy.js';

t.test('configuration from env is validated', async (t) => {
  const c = loadConfig({}, { KAFKA_BROKERS: 'a:1, b:2', LGSP_RETRY_MAX_ATTEMPTS: '7' });
  t.same(c.kafkaBrokers, ['a:1', 'b:2']);
  t.equal(c.retryMaxAttempts, 7);
  t.throws(() => loadConfig({}, { LGSP_RETRY_MAX_ATTEMPTS: 'many' }), ConfigError);
  t.throws(() => loadConfig({}, { LOG_LEVEL: 'loud' }), /logLevel/);
  t.throws(() => loadConfig({}, { LGSP_KEY_GRACE_SECONDS: '3600' }), /keyGraceSeconds \(3600\) must be at least messageTtlSeconds/, 'a rotated key must verify records in flight');
  t.equal(loadConfig({}, { LGSP_KEY_GRACE_SECONDS: '3600', LGSP_MESSAGE_TTL_SECONDS: '600' }).keyGraceSeconds, 3600);
  t.same(loadConfig({}, {}).trustedProxies, [], 'no proxy is believed by default');
  // The dev keys and registry follow LGSP_DATA_DIR (where npm start writes them) unless set.
  const defaults = loadConfig({}, {});
  t.match(defaults, { keysDir: '.lgsp/dev/keys', jwksFile: '.lgsp/dev/keys/public/jwks.json', registryFile: '.lgsp/dev/registry.json' }, 'the defaults as documented');
  t.match(loadConfig({}, { LGSP_DATA_DIR: '/srv/lgsp-b' }), { keysDir: '/srv/lgsp-b/keys', jwksFile: '/srv/lgsp-b/keys/public/jwks.json', registryFile: '/srv/lgsp-b/registry.json' }, 'another data dir: its own keys and registry');
  t.match(loadConfig({ dataDir: '/srv/lgsp-c' }, {}), { keysDir: '/srv/lgsp-c/keys', jwksFile: '/srv/lgsp-c/keys/public/jwks.json' }, 'as an override too');
  t.throws(() => loadConfig({ dataDir: 5 as unknown as string }, {}), /invalid configuration: dataDir must be string/, 'a data dir that is no path is a configuration error, not a crash');
  t.match(loadConfig({}, { LGSP_DATA_DIR: '/srv/lgsp-b', LGSP_KEYS_DIR: '/run/keys', LGSP_JWKS_FILE: '/etc/lgsp/jwks.json', LGSP_REGISTRY_FILE: '/etc/lgsp/registry.json' }), { keysDir: '/run/keys', jwksFile: '/etc/lgsp/jwks.json', registryFile: '/etc/lgsp/registry.json' }, 'set explicitly, they stay as set');
  t.same(loadConfig({}, { LGSP_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,fd00::/8' }).trustedProxies, ['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
  for (const bad of ['ingress.local', '10.0.0.0/33', '10.0.0.0/8/1', '::1/129', '10.0.0/8']) {
    t.throws(() => loadConfig({}, { LGSP_TRUSTED_PROXIES: bad }), /LGSP_TRUSTED_PROXIES.*not an IP address or CIDR range/, bad);
  }
});

t.test('registry is validated against its schema and for consistency', async (t) => {
  const catalogue = new SchemaCatalogue().loadConnectorManifests();
  const registry = Registry.fromData(seedRegistry(), catalogue);
  t.ok(registry.member('000.00.12.H49'));
  t.ok(registry.member('H49.242.10'), 'Decision 20/2020 code form accepted');
  const leadership = registry.servicesOf('000.00.00.H49', 'leadership-notice')[0];
  t.ok(registry.isAllowed('so-tttt-qlvb', leadership));
  t.notOk(registry.isAllowed('so-tp-qlvb', leadership), 'deny by default');
  t.notOk(registry.allowedServices('lgsp-operator').length, 'operators get no service access by default');

  const bad = seedRegistry();
  (bad.members[0] as { code: string }).code = 'lower.case';
  t.throws(() => Registry.fromData(bad, catalogue), RegistryError);
  const dangling = seedRegistry();
  dangling.accessRights.push({ client: 'ghost', service: 'notice' });
  t.throws(() => Registry.fromData(dangling, catalogue), /unknown client ghost/);
  const twice = seedRegistry();
  twice.services.push({ ...twice.services[0], messageTypes: ['notice.send'] });
  t.throws(() => Registry.fromData(twice, catalogue), new RegExp(`service ${twice.services[0].code}: provider ${twice.services[0].provider.replace(/\./g, '\\.')} lists it twice`));
});

t.test('retry backoff grows, is capped and honours Retry-After', async (t) => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  t.equal(retryDelayMs(policy, 1, undefined, () => 1), 100);
  t.equal(retryDelayMs(policy, 3, undefined, () => 1), 400);
  t.equal(retryDelayMs(policy, 10, undefined, () => 1), 1000);
  t.equal(retryDelayMs(policy, 1, undefined, () => 0), 50, 'equal jitter keeps half');
  t.equal(retryDelayMs(policy, 1, 800, () => 0), 800, 'Retry-After is a floor');
});

t.test('backoff step: full growth while the destination fails throughout, half as fast while it delivers others', async (t) => {
  t.equal(backoffStep(6, 100), 6, 'an outage: every attempt failing');
  t.equal(backoffStep(6, 1), 3, 'other messages delivered in between');
  t.equal(backoffStep(6, 4), 4);
  t.equal(backoffStep(1, 1), 1);
  t.equal(backoffStep(0, 0), 1, 'never below the first step');
});
