// deploy/ holds a compose file and Kubernetes manifests that no test here can run (no container
// engine): this keeps them honest against the code — every variable they set is one a service
// reads, every bus service gets what it needs to start (Kafka, PostgreSQL, keys, registry, an
// address it can be reached on), and probes hit the health paths and ports the services serve.
import { BUS_ACLS } from '../services/platform/kafka-acls.js';
import t from 'tap';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { ENV_KEYS } from '../services/platform/config.js';
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from '../services/platform/service-node-flags.js';
import { DATABASE_SERVICES, databaseRoleName, type DatabaseService } from '../services/platform/database-roles.js';

const deploy = join(PROJECT_ROOT, 'deploy');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Variables the services read: the config table plus every process.env.NAME in services/. */
const readByCode = new Set([
  ...Object.keys(ENV_KEYS),
  ...sourceFiles(join(PROJECT_ROOT, 'services')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((m) => m[1])),
]);
const healthSource = readFileSync(join(PROJECT_ROOT, 'services', 'platform', 'service-health.ts'), 'utf8');
const NEEDED = ['KAFKA_BROKERS', 'DATABASE_URL', 'LGSP_KEYS_DIR', 'LGSP_JWKS_FILE', 'LGSP_REGISTRY_FILE', 'LGSP_ISSUER', 'HOST', 'PORT'];
/** The service a main script is (its key directory is named after it). */
const serviceOf = (script: string) => /^dist\/services\/([a-z-]+)\/main\.js$/.exec(script)?.[1] ?? '';
const KEY_OWNERS = ['gateway', 'runner', 'console', 'audit'];
const scriptOf = (command: string[]) => command.find((c) => /^dist\/services\/.+\/main\.js$/.test(c));
const mainExists = (script: string) => existsSync(join(PROJECT_ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')));

t.test('the image runs every service with the V8 flags npm start and the bench use', async (t) => {
  const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
  const options = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1];
  t.same(options?.split(' ').filter(Boolean), [...SERVICE_NODE_FLAGS], 'NODE_OPTIONS equals SERVICE_NODE_FLAGS');
  for (const [name, value] of Object.entries(SERVICE_ENV)) t.match(dockerfile, new RegExp(`^ENV .*\\b${name}=${value}\\b`, 'm'), `${name}=${value} in the image`);
});

t.test('the services serve the health paths the manifests probe', async (t) => {
  t.match(healthSource, /'\/healthz'/);
  t.match(healthSource, /'\/readyz'/);
});

t.test('compose: bus services get what they need, and only variables the code reads', async (t) => {
  const compose = parse(readFileSync(join(deploy, 'compose', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image: string; command?: string[]; environment?: Record<string, string>; healthcheck?: { test: string[] }; ports?: string[]; volumes?: string[] }>;
  };
  const bus = Object.entries(compose.services).filter(([, s]) => s.image.startsWith('lgsp-bus'));
  t.same(bus.filter(([, s]) => scriptOf(s.command ?? [])?.includes('/gateway/')).length, 2, 'two gateways');
  t.same(bus.filter(([, s]) => scriptOf(s.command ?? [])?.includes('/runner/')).length, 2, 'two runners');
  t.same(bus.filter(([, s]) => scriptOf(s.command ?? [])?.includes('/audit/')).length, 2, 'audit and a standby');
  t.ok(compose.services.postgres && ['kafka-1', 'kafka-2', 'kafka-3'].every((k) => compose.services[k]), 'PostgreSQL and three brokers');
  const ids = new Set<string>();
  for (const [name, s] of bus) {
    const env = s.environment ?? {};
    const script = scriptOf(s.command ?? []);
    t.ok(script && mainExists(script), `${name}: runs an existing service (${script})`);
    for (const key of Object.keys(env)) t.ok(readByCode.has(key), `${name}: ${key} is read by the code`);
    for (const key of NEEDED) t.ok(env[key], `${name}: sets ${key}`);
    t.equal(env.HOST, '0.0.0.0', `${name}: listens beyond loopback`);
    t.match(env.DATABASE_URL, /^postgres:\/\/[^@]+@postgres:5432\//, `${name}: DATABASE_URL names the postgres service`);
    t.same(env.KAFKA_BROKERS.split(','), ['kafka-1:9092', 'kafka-2:9092', 'kafka-3:9092'], `${name}: every broker`);
    t.match(s.healthcheck?.test.join(' '), new RegExp(`127\\.0\\.0\\.1:${env.PORT}/readyz`), `${name}: health check on /readyz at PORT`);
    for (const p of s.ports ?? []) t.equal(p.split(':')[1], env.PORT, `${name}: publishes PORT`);
    // Keys: its own private key directory and the public keyset's, nobody else's.
    const service = serviceOf(script ?? '');
    const mounts = (s.volumes ?? []).map((v) => v.split(':'));
    const keyMounts = mounts.filter(([, target]) => target.startsWith(`${env.LGSP_KEYS_DIR}/`));
    t.same(keyMounts.map(([source, target]) => [source, target]), [[`./secrets/keys/${service}`, `${env.LGSP_KEYS_DIR}/${service}`]], `${name}: mounts only the ${service} keys`);
    const publicDir = env.LGSP_JWKS_FILE.slice(0, env.LGSP_JWKS_FILE.lastIndexOf('/'));
    t.ok(mounts.some(([source, target]) => target === publicDir && source === './secrets/keys/public'), `${name}: mounts the public keyset`);
    t.notOk(publicDir.startsWith(env.LGSP_KEYS_DIR), `${name}: the public keyset is outside the private key directories`);
    t.notOk(ids.has(env.LGSP_INSTANCE_ID), `${name}: its own instance id`);
    ids.add(env.LGSP_INSTANCE_ID);
  }
});

t.test('kubernetes: Strimzi, CloudNativePG, probed Deployments, HPAs for gateways and runners', async (t) => {
  const docs = readdirSync(join(deploy, 'kubernetes'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(deploy, 'kubernetes', f), 'utf8')).map((d) => ({ file: f, doc: d.toJS() as any })));
  const kinds = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  t.equal(kinds('Kafka')[0]?.apiVersion, 'kafka.strimzi.io/v1beta2', 'a Strimzi Kafka');
  t.equal(kinds('KafkaNodePool')[0]?.spec.replicas, 3, 'three Kafka nodes');
  t.equal(kinds('Cluster')[0]?.apiVersion, 'postgresql.cnpg.io/v1', 'a CloudNativePG cluster');
  const configMap = kinds('ConfigMap').find((c) => c.metadata.name === 'lgsp-bus')!.data as Record<string, string>;
  for (const key of Object.keys(configMap)) t.ok(readByCode.has(key), `ConfigMap: ${key} is read by the code`);
  t.equal(configMap.KAFKA_BROKERS, `${kinds('Kafka')[0].metadata.name}-kafka-bootstrap:9093`, 'KAFKA_BROKERS is the Strimzi bootstrap service (TLS listener)');
  const listeners = kinds('Kafka')[0].spec.kafka.listeners as { tls: boolean; authentication?: { type: string } }[];
  t.ok(listeners.every((l) => l.tls && l.authentication?.type === 'scram-sha-512'), 'every Kafka listener is TLS with SCRAM');
  t.equal(kinds('Kafka')[0].spec.kafka.authorization?.type, 'simple', 'ACLs enforced');
  // The KafkaUsers state the same ACLs as services/platform/kafka-acls.ts.
  const users = new Map(kinds('KafkaUser').map((u) => [u.metadata.name, u]));
  for (const [principal, rules] of Object.entries(BUS_ACLS)) {
    const user = users.get(`lgsp-${principal}`);
    t.equal(user?.spec.authentication.type, 'scram-sha-512', `KafkaUser lgsp-${principal}`);
    t.same(
      user?.spec.authorization.acls,
      rules.map((r) => ({ resource: { type: r.resource, name: r.name, patternType: r.pattern === 'prefixed' ? 'prefix' : 'literal' }, operations: r.operations })),
      `lgsp-${principal}: the ACLs of kafka-acls.ts`,
    );
  }
  const deployments = kinds('Deployment');
  t.same(deployments.map((d) => d.metadata.name).sort(), ['lgsp-audit', 'lgsp-console', 'lgsp-gateway', 'lgsp-runner']);
  for (const d of deployments) {
    const [c] = d.spec.template.spec.containers;
    const script = scriptOf(c.command);
    t.ok(script && mainExists(script), `${d.metadata.name}: runs an existing service`);
    const names = [...Object.keys(configMap), ...c.env.map((e: { name: string }) => e.name)];
    for (const e of c.env) t.ok(readByCode.has(e.name), `${d.metadata.name}: ${e.name} is read by the code`);
    for (const key of NEEDED) t.ok(names.includes(key), `${d.metadata.name}: has ${key}`);
    // PostgreSQL: its own role (a CloudNativePG managed role whose password Secret also holds
    // the URI) over TLS verified against the cluster's CA, never the owner's app Secret.
    const cluster = kinds('Cluster')[0];
    const dbService = serviceOf(scriptOf(c.command) ?? '');
    t.same(c.env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef, { name: `lgsp-db-${dbService}`, key: 'uri' }, `${d.metadata.name}: DATABASE_URL from its own role's Secret`);
    const role = (cluster.spec.managed?.roles ?? []).find((r: any) => r.name === databaseRoleName(dbService as DatabaseService));
    t.same(role && { login: role.login, secret: role.passwordSecret?.name }, { login: true, secret: `lgsp-db-${dbService}` }, `${d.metadata.name}: role ${databaseRoleName(dbService as DatabaseService)} managed by the cluster with that Secret's password`);
    const dbCaMount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/etc/lgsp/db-ca');
    t.equal(d.spec.template.spec.volumes.find((v: { name: string }) => v.name === dbCaMount?.name)?.secret?.secretName, `${cluster.metadata.name}-ca`, `${d.metadata.name}: the database CA (sslrootcert) mounted`);
    const principal = d.metadata.name;
    t.equal(c.env.find((e: any) => e.name === 'KAFKA_SASL_USERNAME')?.value, principal, `${principal}: its own Kafka principal`);
    t.same(c.env.find((e: any) => e.name === 'KAFKA_SASL_PASSWORD')?.valueFrom.secretKeyRef, { name: principal, key: 'password' }, `${principal}: its password from its KafkaUser's Secret`);
    const port = c.ports.find((p: { name: string }) => p.name === 'http').containerPort;
    t.equal(String(port), configMap.PORT, `${d.metadata.name}: containerPort is PORT`);
    t.same(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    t.same(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    const mounts = new Map(c.volumeMounts.map((m: { mountPath: string; name: string }) => [m.mountPath, m.name]));
    const volumeAt = (dir: string) => d.spec.template.spec.volumes.find((v: { name: string }) => v.name === mounts.get(dir));
    const registryFile = configMap.LGSP_REGISTRY_FILE;
    t.ok(volumeAt(registryFile.slice(0, registryFile.lastIndexOf('/')))?.secret?.secretName, `${d.metadata.name}: the registry comes from a Secret`);
    // A Secret per service with only its private keys; the public keyset from a ConfigMap.
    const service = serviceOf(script ?? '');
    t.ok(KEY_OWNERS.includes(service), `${d.metadata.name}: a service that holds keys`);
    t.equal(volumeAt(`${configMap.LGSP_KEYS_DIR}/${service}`)?.secret?.secretName, `lgsp-keys-${service}`, `${d.metadata.name}: its own key Secret at its key directory`);
    const secrets = d.spec.template.spec.volumes.filter((v: any) => v.secret).map((v: any) => v.secret.secretName);
    t.same(secrets.filter((n: string) => n.startsWith('lgsp-keys-')), [`lgsp-keys-${service}`], `${d.metadata.name}: no other service's keys`);
    t.notOk([...mounts.keys()].some((m) => m === configMap.LGSP_KEYS_DIR), `${d.metadata.name}: the whole key directory is never mounted`);
    const jwksDir = configMap.LGSP_JWKS_FILE.slice(0, configMap.LGSP_JWKS_FILE.lastIndexOf('/'));
    t.ok(volumeAt(jwksDir)?.configMap?.name, `${d.metadata.name}: the public keyset comes from a ConfigMap`);
  }
  const cluster = kinds('Cluster')[0];
  t.same(cluster.spec.postgresql.pg_hba, ['hostssl all all all scram-sha-256', 'host all all all reject'], 'PostgreSQL accepts only TLS connections with a password');
  const roles = (cluster.spec.managed?.roles ?? []).map((r: { name: string }) => r.name);
  t.ok(roles.every((r: string) => DATABASE_SERVICES.some((s) => databaseRoleName(s) === r)), 'every managed role is a service role of the migrations');
  const migrate = kinds('Job').find((j) => j.metadata.name === 'lgsp-db-migrate');
  const [mc] = migrate?.spec.template.spec.containers ?? [];
  t.match(mc?.command.join(' '), /lgsp\.js db migrate --database "\$OWNER_URI\?sslmode=verify-full&sslrootcert=\/etc\/lgsp\/db-ca\/ca\.crt"/, 'a Job migrates as the owner, over verified TLS');
  t.same(mc?.env.find((e: any) => e.name === 'OWNER_URI')?.valueFrom.secretKeyRef, { name: `${cluster.metadata.name}-app`, key: 'uri' }, 'with the owner (app) Secret, which no Deployment gets');
  // The console asks every runner pod (each runs its own copy of every connector): its
  // LGSP_RUNNER_URL is `dns+` of a headless Service selecting the runner pods on their port.
  const consoleEnv = deployments.find((d) => d.metadata.name === 'lgsp-console').spec.template.spec.containers[0].env;
  const runnerUrl = new URL(String(consoleEnv.find((e: any) => e.name === 'LGSP_RUNNER_URL')?.value).replace(/^dns\+/, ''));
  t.match(consoleEnv.find((e: any) => e.name === 'LGSP_RUNNER_URL')?.value, /^dns\+http:\/\//, 'console: every runner pod, by DNS');
  const podsService = kinds('Service').find((s) => s.metadata.name === runnerUrl.hostname);
  const runnerDeployment = deployments.find((d) => d.metadata.name === 'lgsp-runner');
  t.equal(podsService?.spec.clusterIP, 'None', `console: ${runnerUrl.hostname} is a headless Service (resolves to each pod)`);
  t.same(podsService?.spec.selector, runnerDeployment.spec.selector.matchLabels, `console: ${runnerUrl.hostname} selects the runner pods`);
  t.equal(String(runnerDeployment.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === 'http').containerPort), runnerUrl.port, 'console: the runner URL names the pods\' port (no Service port mapping applies to pod addresses)');
  const hpas = kinds('HorizontalPodAutoscaler');
  for (const target of ['lgsp-gateway', 'lgsp-runner']) {
    const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === target);
    t.ok(hpa && hpa.spec.minReplicas >= 2, `${target}: autoscaled, at least two replicas`);
    t.ok(deployments.some((d) => d.metadata.name === target), `${target}: the HPA targets a Deployment that exists`);
  }
});
