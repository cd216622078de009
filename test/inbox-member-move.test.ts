// The pull inbox is per member and system: an item waits for the system *as a system of the
// member it was sent to*. A system the registry moves to another member (a reorganisation, or
// an entry corrected by the operator) must not go on reading, nor acknowledge, what was sent
// to its old member: those items were addressed to that organisation, not to the software.
import t from 'tap';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';
import { editRegistryFile } from './helpers/registry-file.js';

const OLD_MEMBER = '000.00.00.H49';
const NEW_MEMBER = 'H49.999.01';

function memberOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { member: string }).member;
}

t.test('a system moved to another member no longer sees the items of its old member', async (t) => {
  const bus = await startEdocBus(t, { name: 'inboxmove' });
  const sender = bus.client('so-tttt-qlvb');
  const documentId = `000.00.12.H49,2026/05/02,${Math.floor(Math.random() * 9000) + 1000}/QĐ-STTTT`;
  const sent = await sender.send({
    type: 'edoc.send',
    to: { member: OLD_MEMBER },
    payload: { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: OLD_MEMBER }], documentId, subject: 'Gửi Văn phòng UBND tỉnh' } },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const id = sent.body.id as string;

  const before = await bus.client('vp-ubnd-qlvb').accessToken();
  await eventually(async () => {
    const res = await fetch(`${bus.gateway.url}/v1/inbox`, { headers: { authorization: `Bearer ${before}` } });
    const body = (await res.json()) as { items: Array<{ id: string }> };
    return body.items.some((i) => i.id === id);
  }, 60_000);

  // The operator moves the system (and the services it provides) to another member.
  editRegistryFile(bus.config.registryFile, (data) => {
    data.members.push({ ...data.members.find((m) => m.code === OLD_MEMBER)!, code: NEW_MEMBER, name: 'Cơ quan mới (thử nghiệm)' });
    for (const s of data.systems) if (s.clientId === 'vp-ubnd-qlvb') s.member = NEW_MEMBER;
    for (const s of data.services) if (s.system === 'vp-ubnd-qlvb') s.provider = NEW_MEMBER;
  });
  const after = await eventually(async () => {
    try {
      const token = await bus.client('vp-ubnd-qlvb').accessToken();
      return memberOf(token) === NEW_MEMBER ? token : null;
    } catch {
      return null;
    }
  }, 20_000);
  const bearer = { authorization: `Bearer ${after}` };

  const listed = await fetch(`${bus.gateway.url}/v1/inbox`, { headers: bearer });
  t.equal(listed.status, 200);
  const items = ((await listed.json()) as { items: Array<{ id: string }> }).items;
  t.notOk(items.some((i) => i.id === id), 'the old member\'s item is not listed to the moved system');

  const item = await fetch(`${bus.gateway.url}/v1/inbox/${id}`, { headers: bearer });
  t.equal(item.status, 404, 'nor served');
  t.match(item.headers.get('content-type'), /^application\/problem\+json/);
  t.match(await item.json(), { code: 'INBOX_ITEM_NOT_FOUND', status: 404 });

  const ack = await fetch(`${bus.gateway.url}/v1/inbox/${id}/ack`, { method: 'POST', headers: bearer });
  t.equal(ack.status, 404, 'nor acknowledged');
  t.match(await ack.json(), { code: 'INBOX_ITEM_NOT_FOUND' });
  const { rows } = await bus.db.query<{ ackedAt: string | null }>('SELECT acked_at AS "ackedAt" FROM document_inbox WHERE id = $1', [id]);
  t.same(rows, [{ ackedAt: null }], 'the item still waits, unacknowledged, for its member');
});
