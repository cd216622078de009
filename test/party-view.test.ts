// What the parties of a message read of its failures (services/gateway/party-view.ts): the
// runner's reasons name the addresses the bus delivers to, which are the operators' to see;
// the sender and the receiver read every address as withheld and the rest as it was written.
import t from 'tap';
import { ADDRESS_WITHHELD, partyView, withoutAddresses } from '../services/gateway/party-view.js';
import type { MessageView } from '../services/platform/gateway-module.js';

t.test('addresses in a reason are withheld, the rest of it stays', async (t) => {
  t.equal(withoutAddresses('delivery to http://10.20.0.5:8080 failed: ECONNREFUSED'), `delivery to ${ADDRESS_WITHHELD} failed: ECONNREFUSED`);
  t.equal(withoutAddresses('gave up after 7 attempts over 1 min 33 s: delivery to https://qlvb.sotp.example.gov.vn did not complete within 10000 ms'), `gave up after 7 attempts over 1 min 33 s: delivery to ${ADDRESS_WITHHELD} did not complete within 10000 ms`);
  t.equal(withoutAddresses('portal https://dvcqg.internal:8443/api/integration unreachable: ETIMEDOUT'), `portal ${ADDRESS_WITHHELD} unreachable: ETIMEDOUT`);
  t.equal(withoutAddresses('receiver answered HTTP 400'), 'receiver answered HTTP 400', 'a reason without an address is as written');
  t.equal(withoutAddresses('document 000.00.12.H49,2026/12/05,123/TB-STTTT not found'), 'document 000.00.12.H49,2026/12/05,123/TB-STTTT not found', 'a DocumentId is no address');
});

t.test('an XML-DSig algorithm identifier is no address: the sender reads which algorithm the bus cannot check', async (t) => {
  const reason = "the signature cannot be checked: canonicalization algorithm 'http://www.w3.org/2006/12/xml-c14n11' is not supported";
  t.equal(withoutAddresses(reason), reason);
  t.equal(withoutAddresses('hash algorithm http://www.w3.org/2001/04/xmldsig-more#sha384 is not supported; delivery to http://www.w3.org.evil.example/x failed'), `hash algorithm http://www.w3.org/2001/04/xmldsig-more#sha384 is not supported; delivery to ${ADDRESS_WITHHELD} failed`, 'a host that only begins like www.w3.org is withheld');
});

t.test('a party\'s view withholds addresses in every event\'s detail, nested ones too', async (t) => {
  const view: MessageView = {
    id: 'm1',
    type: 'notice.send',
    from: { member: 'A', system: 'a' },
    to: { member: 'B', service: 'notice' },
    correlationId: 'c',
    status: 'dead_lettered',
    events: [
      { event: 'accepted', at: '2026-12-05T00:00:00.000Z' },
      { event: 'delivery_failed', at: '2026-12-05T00:00:01.000Z', detail: { connector: 'relay', attempt: 1, reason: 'delivery to http://192.168.1.7:9000 failed: ECONNREFUSED', retryAt: '2026-12-05T00:00:02.000Z' } },
      { event: 'dead_lettered', at: '2026-12-05T00:00:03.000Z', detail: { attempts: 2, reason: 'gave up', errors: ['http://192.168.1.7:9000/x refused'], last: { cause: 'see http://192.168.1.7:9000' } } },
    ],
  };
  const seen = partyView(view);
  t.notMatch(JSON.stringify(seen), '192.168.1.7', 'no address anywhere in the party\'s view');
  t.same(seen.events[0], view.events[0], 'an event without detail is as it was');
  t.same(seen.events[1].detail, { connector: 'relay', attempt: 1, reason: `delivery to ${ADDRESS_WITHHELD} failed: ECONNREFUSED`, retryAt: '2026-12-05T00:00:02.000Z' });
  t.same(seen.events[2].detail, { attempts: 2, reason: 'gave up', errors: [`${ADDRESS_WITHHELD} refused`], last: { cause: `see ${ADDRESS_WITHHELD}` } });
  t.match(view.events[1].detail!.reason, '192.168.1.7', 'the stored view (the operators\') is left as it was');
});
