// `lgsp connector new <name>`: writes a working connector an integrator then adapts — a
// manifest, a module that delivers its message type as a signed webhook to the endpoint the
// registry holds, a payload schema with an example, a README whose configuration table comes
// from the config schema, a unit test on the harness and an integration test on the real
// broker. Everything of the connector lives in connectors/<name>/ (paths in its connector.json
// are relative to it, so the folder can later become an npm package unchanged); the two tests
// go to test/, where `npm test` runs them. Nothing existing is modified.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SchemaCatalogue, replySchemaName } from '../platform/schema-catalogue.js';
import { configMarkdown } from '@lgsp/sdk/config-reference';

export const CONNECTOR_NAME = /^[a-z][a-z0-9-]{1,62}$/;
export const MESSAGE_TYPE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

export interface ScaffoldOptions {
  name: string;
  /** Message type the connector handles; default <name>.send. */
  messageType?: string;
  /** Project root to write into (default: this installation's). */
  root?: string;
}

export interface ScaffoldResult {
  connectorDir: string;
  messageType: string;
  files: string[];
}

export class ScaffoldError extends Error {
  override name = 'ScaffoldError';
}

function pascal(name: string): string {
  return name.split(/[-.]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

// The scaffolded module's configSchema (written out literally in indexFile), for the README table.
const scaffoldConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeoutMs: { type: 'integer', minimum: 100, maximum: 120000, default: 10000, description: 'How long one delivery may take' },
  },
};

function manifestFile(name: string, type: string): string {
  return JSON.stringify({
    name,
    description: `TODO: what ${name} connects to (one line)`,
    entry: './index',
    messageTypes: [{ type, schema: `./schemas/${type}.schema.json`, description: `TODO: what a ${type} message is` }],
  }, null, 2) + '\n';
}

function schemaFile(type: string): string {
  return JSON.stringify({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://lgsp.example.gov.vn/schemas/messages/${type}.schema.json`,
    title: `${type} — TODO: one line for integrators`,
    description: 'TODO: what the payload carries. Keep additionalProperties false and at least one valid example: the gateway refuses a connector whose examples do not match.',
    type: 'object',
    additionalProperties: false,
    required: ['title'],
    properties: {
      title: { type: 'string', minLength: 1, maxLength: 500 },
      body: { type: 'string', maxLength: 100000 },
      reference: { type: 'string', maxLength: 200, description: 'The sender\'s own reference' },
    },
    examples: [{ title: 'Thông báo thử nghiệm', body: 'Nội dung thông báo gửi qua trục LGSP.', reference: '01/TB-TEST' }],
  }, null, 2) + '\n';
}

function indexFile(name: string, type: string): string {
  const Config = `${pascal(name)}Config`;
  return `// The ${name} connector. It receives ${type} messages addressed to a service the registry
// assigns to it, and delivers each to the providing system. The runtime has already verified,
// deduplicated and routed the message; this module only says how to hand it over.
//
// Start here: replace the delivery below with a call to the target system's API (map the
// payload to its format, read its answer, emit its receipt with ctx.emitStatus). Throw
// PermanentError for what a retry cannot fix (the message is dead-lettered with the reason),
// RetryableError (or any other error) for what may pass later (it is retried with backoff).
// Import only from @lgsp/sdk: the connector must not depend on the bus's internals.
import { defineConnector, PermanentError } from '@lgsp/sdk';

export interface ${Config} {
  timeoutMs: number;
}

export default defineConnector<${Config}>({
  name: '${name}',
  description: 'TODO: what ${name} connects to',
  // Validated when the runner starts the connector (defaults filled in); documented from the
  // descriptions by GET /v1/connectors/${name} and \`lgsp connector describe ${name}\`.
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      timeoutMs: { type: 'integer', minimum: 100, maximum: 120000, default: 10000, description: 'How long one delivery may take' },
    },
  },
  // Secrets (API keys, passwords) are declared here and read from the environment
  // (LGSP_SECRET_${name.replace(/-/g, '_').toUpperCase()}_<NAME>), never from configuration, e.g.:
  //   secrets: { apiKey: { description: 'API key of the target system' } },
  // then ctx.secrets.get('apiKey') in handle().
  async handle(message, ctx) {
    if (message.type !== '${type}') throw new PermanentError(\`${name} does not handle \${message.type}\`);
    const url = ctx.service.endpoint;
    if (!url) throw new PermanentError(\`service \${ctx.service.code} of \${ctx.service.provider} has no endpoint in the registry\`);
    // A signed POST of the message (compact JWS, LGSP-Message-Id header); resolves on 2xx, throws
    // RetryableError on 5xx/408/429/network errors and PermanentError on other 4xx.
    const response = await ctx.deliver({ url, envelope: message, timeoutMs: ctx.config.timeoutMs });
    ctx.metrics.counter('delivered_total', 'Messages the target system acknowledged').inc();
    return { detail: { httpStatus: response.status } };
  },
});
`;
}

function unitTestFile(name: string, type: string, connectorImport: string, sdkImport: string, manifestPath: string): string {
  return `// Unit test of the ${name} connector on the SDK test harness: no Kafka, no gateway. The
// harness validates the configuration like the runner, checks sample payloads against the
// declared schema, and delivers to a local receiver with a real signed HTTP POST.
import t from 'tap';
import connector from '${connectorImport}';
import { testConnector } from '${sdkImport}';

const manifest = new URL('${manifestPath}', import.meta.url);

t.test('${name}: delivers each schema example to the providing system', async (t) => {
  // receiver: a local HTTP server standing in for the providing system, used as its endpoint.
  const harness = await testConnector(connector, { manifest, receiver: true });
  t.teardown(() => harness.stop());

  const outcomes = await harness.sendExamples('${type}');
  t.ok(outcomes.length > 0, 'the schema has examples');
  for (const outcome of outcomes) t.equal(outcome.outcome, 'delivered', outcome.error?.message ?? 'delivered');
  const requests = harness.receiver!.requests;
  t.equal(requests.length, outcomes.length, 'one POST per message');
  // Whatever body handle() sends (the envelope, or the target's own format with body: {...}),
  // the runtime signs it and names the message in LGSP-Message-Id.
  t.equal(requests[0].headers['lgsp-message-id'], outcomes[0].envelope.id, 'the request names the message in LGSP-Message-Id');
  t.equal(requests[0].signatureValid, true, 'signed (a JWS body, or LGSP-Signature over a body of your own)');
  // The envelope as the body (as scaffolded): it carries the message. With a body of your own,
  // check here what the target system must receive (requests[0].json or .body).
  if (requests[0].envelope) t.same(requests[0].envelope.data, outcomes[0].envelope.data, 'the signed envelope carries the message');
  t.equal(harness.metrics.value('delivered_total'), outcomes.length);
});

t.test('${name}: failures are classified for the runtime', async (t) => {
  const harness = await testConnector(connector, { manifest, receiver: true });
  t.teardown(() => harness.stop());
  const [example] = harness.examples('${type}');

  harness.receiver!.respondOnce({ status: 503, headers: { 'retry-after': '2' } });
  const unavailable = await harness.send('${type}', example);
  t.equal(unavailable.outcome, 'retried', 'a 503 is retried');
  t.equal(unavailable.error?.retryAfterMs, 2000, 'honouring Retry-After');

  harness.receiver!.respondOnce({ status: 422, body: { error: 'refused' } });
  t.equal((await harness.send('${type}', example)).outcome, 'dead_lettered', 'a 4xx refusal is permanent');

  const noEndpoint = await testConnector(connector, { manifest });
  t.teardown(() => noEndpoint.stop());
  t.equal((await noEndpoint.send('${type}', example)).outcome, 'dead_lettered', 'no endpoint in the registry');
  await t.rejects(harness.send('${type}', { unexpected: true }), /would be refused by the gateway/, 'payloads are checked against the schema');
  await t.rejects(testConnector(connector, { config: { timeoutMs: 1 } }), /invalid configuration/, 'configuration is validated like the runner does');
});
`;
}

function busTestFile(name: string, type: string, helpersImport: string, sdkImport: string, connectorsDir: string): string {
  return `// Integration test of the ${name} connector on the real broker: a message sent through the
// gateway by an agency system reaches the connector in the runner (Kafka, signature checks,
// retries) and is delivered to the providing system. The demo registry is extended, for this
// test only, with a service for the connector and an access right (deny by default).
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { startTestBus, eventually, type TestBus } from '${helpersImport}';
import { startTestReceiver } from '${sdkImport}';

const SENDER = 'so-tttt-qlvb';
const PROVIDER = '000.00.00.H49';

t.test('${name} on the bus: gateway → Kafka → ${name} → providing system', async (t) => {
  let bus: TestBus | undefined;
  const receiver = await startTestReceiver({ publicKeys: (kid) => bus?.keys.publicKeys.lookup('delivery')(kid) });
  t.teardown(() => receiver.close());
  bus = await startTestBus(t, {
    name: '${name}',
    connectors: ['${name}'],
    // The folder this test's connector lives in (the project's connectors/ in a checkout).
    config: { connectorDirs: [fileURLToPath(new URL('${connectorsDir}', import.meta.url))] },
    registry: (registry) => {
      // Delivered to this test's receiver whether or not seeds/registry.json lists the service
      // already (step 5 of docs/write-a-connector.md): the registry refuses two entries for one
      // provider and service code, so a seeded entry is replaced, not added to.
      const service = { code: '${name}', name: '${name} (test)', provider: PROVIDER, system: 'vp-ubnd-qlvb', connector: '${name}', messageTypes: ['${type}'], endpoint: \`\${receiver.url}/${name}\` };
      registry.services = [...registry.services.filter((s) => !(s.code === service.code && s.provider === PROVIDER)), service];
      if (!registry.accessRights.some((r) => r.client === SENDER && r.service === service.code && r.provider === PROVIDER)) {
        registry.accessRights.push({ client: SENDER, service: service.code, provider: PROVIDER });
      }
    },
  });
  // If the connector could not start, its status says why (configuration, secret, start()...).
  const operator = await bus.client('lgsp-operator').accessToken();
  const status = await (await fetch(\`\${bus.runner!.url}/v1/connectors/${name}/status\`, { headers: { authorization: \`Bearer \${operator}\` } })).json();
  t.equal(status.connector.state, 'RUNNING', status.connector.trace ?? 'the connector runs');

  // The first example of your schema, as the gateway publishes it: the test keeps passing when
  // you change the payload (step 2 of the guide) and keep the example valid.
  const schema = await (await fetch(\`\${bus.gateway.url}/v1/schemas/${type}\`)).json();
  const [example] = schema.examples;
  const sent = await bus.client(SENDER).send({
    type: '${type}',
    to: { member: PROVIDER, service: '${name}' },
    payload: example,
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const [delivery] = await receiver.waitFor(1, 20_000);
  // Whatever body handle() sends (the envelope, or the target's own format with body: {...}),
  // the runtime signs it and names the message in LGSP-Message-Id.
  t.equal(delivery.headers['lgsp-message-id'], sent.body.id, 'the request names the message in LGSP-Message-Id');
  t.equal(delivery.signatureValid, true, 'signed with the platform key (a JWS body, or LGSP-Signature over a body of your own)');
  if (delivery.envelope) t.equal(delivery.envelope.id, sent.body.id, 'the signed envelope is the message');
  const view = await eventually(async () => {
    const r = await bus!.client(SENDER).status(sent.body.id);
    return r.body.status === 'delivered' ? r.body : null;
  });
  t.match(view.events.map((e: { event: string }) => e.event), ['accepted', 'delivered']);
  t.equal(receiver.requests.length, 1, 'one request to the providing system');

  const refused = await bus.client('so-tp-qlvb').send({ type: '${type}', to: { member: PROVIDER, service: '${name}' }, payload: example });
  t.equal(refused.status, 403, 'no access right, no access');
});
`;
}

function readmeFile(name: string, type: string): string {
  return `# ${name} connector

TODO: what system this connects the bus to, and who sends what.

## Message types

| type | schema | |
|---|---|---|
| \`${type}\` | [schemas/${type}.schema.json](schemas/${type}.schema.json) | TODO |

## Configuration

Given to the runner under the connector's name (\`LGSP_CONNECTORS_CONFIG\` file); validated at
start. Generated from \`configSchema\` — \`lgsp connector describe ${name}\` prints the current one.

${configMarkdown(scaffoldConfigSchema)}
## Registry

A service delivered by this connector, and access rights for the systems that may call it
(deny by default), e.g. in \`seeds/registry.json\` for the demo:

\`\`\`json
{ "code": "${name}", "name": "…", "provider": "<member code>", "system": "<providing system>", "connector": "${name}", "messageTypes": ["${type}"] }
{ "client": "<calling system>", "service": "${name}", "provider": "<member code>" }
\`\`\`

## Tests

\`test/${name}.test.ts\` (harness, no Kafka) and \`test/${name}-bus.test.ts\` (real broker).
See docs/write-a-connector.md.
`;
}

export function scaffoldConnector(opts: ScaffoldOptions): ScaffoldResult {
  const root = opts.root ?? new SchemaCatalogue().root;
  const name = opts.name;
  if (!CONNECTOR_NAME.test(name)) throw new ScaffoldError(`"${name}" is not a valid connector name: lower-case letters, digits and dashes, starting with a letter (2–63 characters)`);
  const type = opts.messageType ?? `${name}.send`;
  if (!MESSAGE_TYPE.test(type)) throw new ScaffoldError(`"${type}" is not a valid message type: lower-case words joined by dots, e.g. report.submit`);
  const connectorDir = join(root, 'connectors', name);
  if (existsSync(connectorDir)) throw new ScaffoldError(`${relative(process.cwd(), connectorDir) || connectorDir} already exists: choose another name`);
  // Names and message types are global on the bus: refuse what the installation already has.
  const existing = new SchemaCatalogue().loadConnectors({ connectorDirs: [join(root, 'connectors')] });
  if (existing.manifests.some((m) => m.name === name) || existing.failedManifests.some((m) => m.name === name)) throw new ScaffoldError(`a connector named ${name} already exists`);
  const owner = existing.messageTypes.get(type);
  if (owner) throw new ScaffoldError(`message type ${type} is already declared by connector ${owner.connector}: choose another with --type`);
  // A request/reply type's reply schema is published under <type>.reply, and the catalogue refuses
  // a message type of that name: scaffolding one would make a connector that fails at once.
  const replyOf = [...existing.messageTypes.values()].find((info) => info.requestReply && replySchemaName(info.type) === type);
  if (replyOf) throw new ScaffoldError(`message type ${type} is the name of the reply schema of ${replyOf.type} (connector ${replyOf.connector}): choose another with --type`);
  const testDir = join(root, 'test');
  const tests = [join(testDir, `${name}.test.ts`), join(testDir, `${name}-bus.test.ts`)];
  for (const f of tests) if (existsSync(f)) throw new ScaffoldError(`${f} already exists`);

  const files: [string, string][] = [
    [join(connectorDir, 'connector.json'), manifestFile(name, type)],
    [join(connectorDir, 'index.ts'), indexFile(name, type)],
    [join(connectorDir, 'schemas', `${type}.schema.json`), schemaFile(type)],
    [join(connectorDir, 'README.md'), readmeFile(name, type)],
    [tests[0], unitTestFile(name, type, `../connectors/${name}/index.js`, '@lgsp/sdk/testing', `../connectors/${name}/connector.json`)],
    [tests[1], busTestFile(name, type, './helpers/test-bus.js', '@lgsp/sdk/testing', '../connectors')],
  ];
  mkdirSync(join(connectorDir, 'schemas'), { recursive: true });
  mkdirSync(testDir, { recursive: true });
  for (const [file, content] of files) writeFileSync(file, content, { flag: 'wx' });
  return { connectorDir, messageType: type, files: files.map(([f]) => f) };
}
