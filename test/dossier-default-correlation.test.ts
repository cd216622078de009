// A one-stop system that leaves out correlationId got the gateway's default, each message's own
// id: the dossier's sync and its progress steps went under different Kafka keys (no order
// between them), a step that overtook the sync found no earlier message of its dossier to wait
// for, the console's trace showed no thread and the KPIs counted each message as a dossier.
// The dossier code is the correlation id the guide prescribes, so it is the default for dossier
// messages; a correlationId the system sends is kept as sent, and an Idempotency-Key retry still
// names the same message.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a dossier message without correlationId is correlated by its dossier code', async (t) => {
  const bus = await startTestBus(t, { name: 'dossier-default-correlation', runner: false });
  const client = bus.client('so-tp-motcua');
  const to = { member: '000.00.00.G22', service: 'dvcqg-dossier' };
  const code = '000.00.15.H49-260115-0031';
  const sync = {
    type: 'dossier.sync',
    to,
    payload: {
      dossierCode: code,
      procedureCode: '1.001234',
      sectorCode: 'LLTP',
      applicant: { name: 'Nguyễn Văn An', kind: 'citizen' },
      receivedAt: '2026-01-15T08:30:00+07:00',
      dueAt: '2026-01-29T17:00:00+07:00',
      status: 'accepted',
    },
  };
  const progress = { type: 'dossier.progress', to, payload: { dossierCode: code, previousStatus: 'accepted', status: 'processing', handledAt: '2026-01-16T09:15:00+07:00' } };

  const correlationOf = async (id: string) => {
    const view = await client.request('GET', `/v1/messages/${id}`);
    t.equal(view.status, 200);
    return (view.body as { correlationId: string }).correlationId;
  };

  const first = await client.send(sync, `sync-${code}`);
  t.equal(first.status, 202);
  const syncId = (first.body as { id: string }).id;
  t.equal(await correlationOf(syncId), code, 'the sync is correlated by its dossier code');
  const second = await client.send(progress);
  t.equal(second.status, 202);
  t.equal(await correlationOf((second.body as { id: string }).id), code, 'and so is its progress: one thread, one Kafka key');

  const retry = await client.send(sync, `sync-${code}`);
  t.equal((retry.body as { id: string }).id, syncId, 'an Idempotency-Key retry names the same message');

  const own = await client.send({ ...progress, correlationId: 'HS-0031', payload: { ...progress.payload, previousStatus: 'processing', status: 'processed', handledAt: '2026-01-17T09:15:00+07:00' } });
  t.equal(own.status, 202);
  t.equal(await correlationOf((own.body as { id: string }).id), 'HS-0031', 'a correlationId sent is kept as sent');

  const notice = await bus.client('so-tttt-qlvb').send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'S', body: 'B' } });
  t.equal(notice.status, 202);
  const noticeId = (notice.body as { id: string }).id;
  const noticeView = await bus.client('so-tttt-qlvb').request('GET', `/v1/messages/${noticeId}`);
  t.equal((noticeView.body as { correlationId: string }).correlationId, noticeId, 'other types keep the default, their own id');
});
