// GET /v1/inbox?after=<a time, an id, a cursor kept across a database restore> answered an empty
// page (200) for ever while items waited: `after` takes the `next` of a previous page, and a value
// past every cursor the bus has numbered is now refused 400 with the newest cursor named. A cursor
// the bus did give (the newest one included) still answers its page, empty or not.
import t from 'tap';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';

t.test('an inbox cursor past every item numbered is refused; one the bus gave is answered', async (t) => {
  const bus = await startEdocBus(t, { name: 'inbox-cursor-past' });
  const sent = await bus.client('so-tttt-qlvb').send({
    type: 'edoc.send',
    to: { member: '000.00.00.H49' },
    payload: { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId: '000.00.12.H49,2026/05/04,79/QĐ-STTTT', subject: 'Con trỏ hộp thư' } },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const get = (query: string) => fetch(`${bus.gateway.url}/v1/inbox${query}`, { headers: { authorization: `Bearer ${token}` } });
  await eventually(async () => ((await get('')).status === 200 && ((await (await get('')).json()) as { items: unknown[] }).items.length > 0 ? true : null), 60_000);
  const newest = Number((await bus.db.query<{ n: string }>('SELECT max(cursor) AS n FROM document_inbox')).rows[0].n);

  const atNewest = await get(`?after=${newest}`);
  t.equal(atNewest.status, 200, 'the newest cursor is one the bus gives');
  t.same(await atNewest.json(), { items: [], next: null });

  const epoch = 1_765_152_000;
  const past = await get(`?after=${epoch}`);
  t.equal(past.status, 400);
  t.match(past.headers.get('content-type'), /application\/problem\+json/);
  const problem = (await past.json()) as { code: string; detail: string; errors: { field: string }[] };
  t.equal(problem.code, 'BAD_REQUEST');
  t.match(problem.detail, `after=${epoch} is past every inbox item the bus has numbered (the newest is ${newest})`);
  t.same(problem.errors.map((e) => e.field), ['querystring.after'], 'named as a query parameter, like its VALIDATION_FAILED (querystring.<name>)');
  t.equal((await get(`?after=${newest + 1}`)).status, 400, 'one past the newest');
  t.equal((await get('?after=0')).status, 200, '0 is the start');
});
