// A one-type connector written to a temporary directory from its source, on a test bus of its
// own: for tests of what the runner does with a connector's behaviour (test/sdk-runtime.test.ts
// covers the loading and management side).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { startTestBus, eventually, type TestBus } from './test-bus.js';
import { writeConnectorSource } from './connector-source.js';

export const SDK = fileURLToPath(new URL('../../connectors/sdk/index.js', import.meta.url));
const PROVIDER = '000.00.00.H49';
const SENDER = 'so-tttt-qlvb';

function write(file: string, content: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

export interface InlineConnectorBus {
  bus: TestBus;
  /** Sends `{ text }` to the connector's service; the accepted message's id. */
  send(text: string): Promise<string>;
  /** The sender's view of the message once it is delivered or dead-lettered. */
  final(id: string, timeoutMs?: number): Promise<{ status: string; events: Array<{ event: string; detail: Record<string, unknown> }> }>;
}

/** Starts a bus hosting connector `name` (type `<name>.test`, payload `{ text }`) from `source`. */
export async function startInlineConnector(
  t: { teardown(fn: () => unknown): void },
  name: string,
  source: string,
  opts: { secrets?: Record<string, string>; manifest?: Record<string, unknown>; requestReply?: boolean; config?: Record<string, unknown>; runnerLog?: Logger } = {},
): Promise<InlineConnectorBus> {
  const type = `${name}.test`;
  const root = mkdtempSync(join(tmpdir(), `lgsp-${name}-`));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  write(join(root, 'package.json'), { type: 'module', private: true });
  const dir = join(root, 'connectors');
  // With requestReply the type is asked with POST /v1/requests and answered `{ text }` by ctx.reply().
  const reply = opts.requestReply ? { replySchema: `./schemas/${type}.reply.schema.json` } : {};
  write(join(dir, name, 'connector.json'), { name, description: `${name} (test)`, entry: './index', messageTypes: [{ type, schema: `./schemas/${type}.schema.json`, ...reply }], ...opts.manifest });
  const textSchema = (id: string) => ({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://lgsp.example.gov.vn/schemas/messages/${id}.schema.json`,
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: { text: { type: 'string', minLength: 1, maxLength: 200 } },
    examples: [{ text: 'ok' }],
  });
  write(join(dir, name, 'schemas', `${type}.schema.json`), textSchema(type));
  if (opts.requestReply) write(join(dir, name, 'schemas', `${type}.reply.schema.json`), textSchema(`${type}.reply`));
  writeConnectorSource(join(dir, name, 'index.ts'), source);
  const bus = await startTestBus(t, {
    name,
    connectors: [name],
    config: { connectorDirs: [dir], ...opts.config },
    ...(opts.secrets ? { connectorSecrets: { [name]: opts.secrets } } : {}),
    ...(opts.runnerLog ? { runnerLog: opts.runnerLog } : {}),
    registry: (registry) => {
      registry.services.push({ code: name, provider: PROVIDER, system: 'vp-ubnd-qlvb', connector: name, messageTypes: [type] });
      registry.accessRights.push({ client: SENDER, service: name, provider: PROVIDER });
    },
  });
  return {
    bus,
    async send(text) {
      const r = await bus.client(SENDER).send({ type, to: { member: PROVIDER, service: name }, payload: { text } });
      if (r.status !== 202) throw new Error(`${text}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id as string;
    },
    final: (id, timeoutMs = 30_000) => eventually(async () => {
      const r = await bus.client(SENDER).status(id);
      return ['delivered', 'dead_lettered'].includes(r.body.status) ? r.body : null;
    }, timeoutMs),
  };
}
