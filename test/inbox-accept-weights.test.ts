// GET /v1/inbox/{id} answers JSON or edXML; the Accept header chooses when it weighs one above the
// other, q-values included (RFC 9110 §12.5.1). The header was searched for the name
// `application/xml`: `application/xml;q=0` (anything but XML) and `application/json,
// application/xml;q=0.5` (JSON preferred) were both answered with edXML. What HTTP client
// libraries send by default (`*/*`; axios's `application/json, text/plain, */*`) leaves the format
// to the system's registry entry, as before.
import t from 'tap';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';
import { acceptPrefers, acceptWeight } from '../services/platform/accept-header.js';

t.test('Accept weights, unit', async (t) => {
  t.equal(acceptWeight('application/xml;q=0', 'application/xml'), 0);
  t.equal(acceptWeight('application/json, application/xml;q=0.5', 'application/xml'), 0.5);
  t.equal(acceptWeight('text/html, */*;q=0.2', 'application/json'), 0.2);
  t.equal(acceptWeight('application/*;q=0.3, */*;q=0.1', 'application/xml'), 0.3, 'the most specific range counts');
  t.equal(acceptWeight('text/html', 'application/json'), 0, 'a type no range covers');
  t.equal(acceptWeight('APPLICATION/XML ; Q=0.7', 'application/xml'), 0.7, 'names and parameters in any case');
  const formats = [{ name: 'edxml' as const, mediaTypes: ['application/xml', 'text/xml'] }, { name: 'json' as const, mediaTypes: ['application/json'] }] as const;
  t.equal(acceptPrefers(undefined, ...formats), undefined);
  t.equal(acceptPrefers('*/*', ...formats), undefined);
  t.equal(acceptPrefers('application/json, text/plain, */*', ...formats), undefined, "axios's default: XML is as welcome through */*");
  t.equal(acceptPrefers('application/json, text/plain, */*;q=0.1', ...formats), 'json');
  t.equal(acceptPrefers('text/xml', ...formats), 'edxml');
  t.equal(acceptPrefers('application/xml, application/json', ...formats), undefined, 'both alike: the registry decides');
});

t.test('an inbox item is served in the format Accept weighs highest', async (t) => {
  const bus = await startEdocBus(t, { name: 'inboxaccept' });
  // vp-ubnd-qlvb (000.00.00.H49) pulls, JSON by its registry entry; the QLVB simulator leaves it to the test.
  const office = bus.client('vp-ubnd-qlvb');
  const sender = bus.client('so-tttt-qlvb');
  const documentId = `000.00.12.H49,2026/05/02,${Math.floor(Math.random() * 9000) + 1000}/QĐ-STTTT`;
  const sent = await sender.send({
    type: 'edoc.send',
    to: { member: '000.00.00.H49' },
    payload: { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId, subject: 'Định dạng theo Accept' } },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const id = sent.body.id as string;
  const token = await office.accessToken();
  const fetchItem = (accept?: string) => fetch(`${bus.gateway.url}/v1/inbox/${id}`, { headers: { authorization: `Bearer ${token}`, ...(accept === undefined ? {} : { accept }) } });
  await eventually(async () => ((await fetchItem()).status === 200 ? true : null), 60_000);

  const cases: [string | undefined, RegExp][] = [
    [undefined, /^application\/json/],
    ['*/*', /^application\/json/],
    ['application/xml', /^application\/xml/],
    ['text/xml', /^text\/xml/],
    ['application/json, application/xml;q=0.9', /^application\/json/],
    ['application/xml;q=0', /^application\/json/],
    ['application/json, application/xml;q=0.5', /^application\/json/],
    ['application/xml;q=0.2, application/json;q=0.8', /^application\/json/],
    ['application/json;q=0.1, application/xml', /^application\/xml/],
  ];
  for (const [accept, type] of cases) {
    const res = await fetchItem(accept);
    t.equal(res.status, 200, `Accept: ${accept}`);
    t.match(res.headers.get('content-type'), type, `Accept: ${accept ?? '(none)'} → ${res.headers.get('content-type')}`);
    await res.arrayBuffer();
  }
  // `format` still overrides the header.
  for (const [accept, type] of [['application/xml;q=0', /^text\/xml/], ['application/json', /^application\/xml/]] as const) {
    const forced = await fetch(`${bus.gateway.url}/v1/inbox/${id}?format=edxml`, { headers: { authorization: `Bearer ${token}`, accept } });
    t.match(forced.headers.get('content-type'), type, `format=edxml wins over Accept: ${accept} (as the XML type it leaves open, if any)`);
    await forced.arrayBuffer();
  }
});
