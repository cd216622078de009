// Document exchange follows the registry file too (real Kafka and PostgreSQL): a service's
// documentSignatures policy, a system's documentDelivery format (how its inbox items come) and
// mode (pushed by the runner or left in its inbox) apply to the next submission, read or delivery
// after the file changes — no restart of the gateway or the runner.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryData } from '../services/platform/registry.js';
import { editRegistryFile } from './helpers/registry-file.js';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';

const WITHIN_MS = 15_000;
const corpus = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', name), 'utf8');
/** An unsigned package of the provincial office to `to`, numbered `n`. */
const pkg = (n: number, to: string[]) =>
  corpus('sdk-document-no-attachments.xml')
    .replace(/<edXML:To>[\s\S]*<\/edXML:To>/, to.map((m) => `<edXML:To><edXML:OrganId>${m}</edXML:OrganId></edXML:To>`).join('\n        '))
    .replace(/202\/UBND-KGVX/g, `${n}/UBND-KS`)
    .replace('<edXML:CodeNumber>202</edXML:CodeNumber>', `<edXML:CodeNumber>${n}</edXML:CodeNumber>`);

t.test('document exchange follows registry edits without a restart', async (t) => {
  const bus = await startEdocBus(t, { name: 'registry-follows-docs' });
  const file = bus.config.registryFile;
  const editRegistry = (change: (data: RegistryData) => void) => editRegistryFile(file, change);
  const documentService = (data: RegistryData, member: string) => data.services.find((s) => s.code === 'document-exchange' && s.provider === member)!;
  const system = (data: RegistryData, clientId: string) => data.systems.find((s) => s.clientId === clientId)!;
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const postXml = async (xml: string) => {
    const r = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/xml; charset=utf-8', authorization: `Bearer ${token}` }, body: xml });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  let number = 400;

  await t.test('a service starts refusing unsigned documents', async (t) => {
    const before = await postXml(pkg(++number, ['000.00.15.H49']));
    t.equal(before.status, 202, `before: an unsigned package is accepted ${JSON.stringify(before.body)}`);
    editRegistry((data) => {
      documentService(data, '000.00.15.H49').documentSignatures = { refuse: ['unsigned'] };
    });
    const refused = await eventually(async () => {
      const r = await postXml(pkg(++number, ['000.00.15.H49']));
      return r.status === 422 ? r : null;
    }, WITHIN_MS);
    t.match(refused.body, { code: 'SIGNATURE_POLICY', detail: /does not accept unsigned documents/ });
    editRegistry((data) => {
      delete documentService(data, '000.00.15.H49').documentSignatures;
    });
    await eventually(async () => (await postXml(pkg(++number, ['000.00.15.H49']))).status === 202, WITHIN_MS);
  });

  await t.test("a system's inbox items come in the format the registry names now", async (t) => {
    // The receiving QLVB answers with status packets: they wait in the office's inbox (pull, JSON).
    const item = await eventually(async () => {
      const inbox = await office.request('GET', '/v1/inbox?type=edoc.status&limit=100');
      return (inbox.body as { items: { id: string }[] }).items[0];
    }, 60_000);
    const read = () => fetch(`${bus.gateway.url}/v1/inbox/${item.id}`, { headers: { authorization: `Bearer ${token}` } });
    t.match((await read()).headers.get('content-type'), /^application\/json/, 'before: JSON');
    editRegistry((data) => {
      system(data, 'vp-ubnd-qlvb').documentDelivery = { mode: 'pull', format: 'edxml' };
    });
    await eventually(async () => /^application\/xml/.test((await read()).headers.get('content-type') ?? ''), WITHIN_MS);
  });

  await t.test('a system switched from push to pull finds the next document in its inbox', async (t) => {
    const receiver = bus.client('so-tttt-qlvb');
    const inboxIds = async () => ((await receiver.request('GET', '/v1/inbox?type=edoc.send&limit=100')).body as { items: { documentId?: string; id: string }[] }).items;
    editRegistry((data) => {
      system(data, 'so-tttt-qlvb').documentDelivery = { mode: 'pull', format: 'json' };
    });
    // Every few seconds a new document, until one lands in the inbox instead of being pushed.
    const landed = await eventually(async () => {
      const sent = await postXml(pkg(++number, ['000.00.12.H49']));
      t.equal(sent.status, 202, JSON.stringify(sent.body));
      await new Promise((r) => setTimeout(r, 1000));
      return (await inboxIds()).length > 0;
    }, 30_000, 500);
    t.ok(landed, 'deposited in its inbox by the running runner');
  });
});
