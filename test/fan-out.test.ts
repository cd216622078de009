// Fan-out recipients are told apart by the service they resolve to, not by how `to` spells them:
// a member named once bare and once with its service would otherwise get the message twice.
import t from 'tap';
import { authorizeRecipients, routeRecipients } from '../services/gateway/fan-out.js';
import { ProblemError } from '../services/platform/problem.js';
import { Registry } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { seedRegistry } from './helpers/test-bus.js';

const catalogue = new SchemaCatalogue().loadConnectorManifests();
const registry = Registry.fromData(seedRegistry(), catalogue);
const caller = { clientId: 'vp-ubnd-qlvb', member: '000.00.00.H49', roles: ['agency' as const] };
// 000.00.00.H49 takes notice.send on two services: notice (open to every agency) and
// leadership-notice (so-tttt-qlvb only).
const tttt = { clientId: 'so-tttt-qlvb', member: '000.00.12.H49', roles: ['agency' as const] };
const submission = (to: Array<{ member: string; service?: string }>) => ({ type: 'notice.send', to, payload: { subject: 'Thông báo', body: 'Nội dung' } });

function problemOf(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

t.test('a recipient named bare and with its service is one recipient', async (t) => {
  const body = submission([{ member: '000.00.12.H49' }, { member: '000.00.15.H49' }, { member: '000.00.12.H49', service: 'notice' }]);
  for (const [name, check] of [
    ['authorisation', () => authorizeRecipients(body, caller, registry, catalogue)],
    ['routing', () => routeRecipients(body, caller, registry, catalogue)],
  ] as const) {
    const refused = problemOf(check);
    t.equal(refused.status, 400, name);
    t.equal(refused.code, 'DUPLICATE_RECIPIENT', name);
    t.match(refused.detail, /^to\[2\] \(000\.00\.12\.H49\): service "notice" of 000\.00\.12\.H49 is already a recipient/, name);
    t.same(refused.extras.errors, [{ field: 'to[2].member', message: 'duplicate recipient' }], name);
  }
});

t.test('the same entry twice is refused; distinct services of one member are not duplicates', async (t) => {
  t.equal(problemOf(() => routeRecipients(submission([{ member: '000.00.15.H49', service: 'notice' }, { member: '000.00.15.H49', service: 'notice' }]), caller, registry, catalogue)).code, 'DUPLICATE_RECIPIENT');
  const routed = routeRecipients(submission([{ member: '000.00.12.H49' }, { member: '000.00.15.H49' }]), caller, registry, catalogue);
  t.same(routed.map((r) => `${r.service.provider}/${r.service.code}`), ['000.00.12.H49/notice', '000.00.15.H49/notice']);
  t.same(routed.map((r) => r.envelope.to), [{ member: '000.00.12.H49', service: 'notice' }, { member: '000.00.15.H49', service: 'notice' }], 'each envelope names the resolved service');
  const both = routeRecipients(submission([{ member: '000.00.00.H49', service: 'notice' }, { member: '000.00.00.H49', service: 'leadership-notice' }]), tttt, registry, catalogue);
  t.equal(both.length, 2, 'two services of one member are two recipients');
});

t.test('a routing refusal still names the recipient it concerns', async (t) => {
  const refused = problemOf(() => routeRecipients(submission([{ member: '000.00.15.H49' }, { member: '000.00.00.H49' }]), tttt, registry, catalogue));
  t.equal(refused.code, 'AMBIGUOUS_SERVICE');
  t.match(refused.detail, /^to\[1\] \(000\.00\.00\.H49\): .*\(notice, leadership-notice\)/);
  t.same(refused.extras.errors, [{ field: 'to[1].service', message: 'required for this recipient and type' }]);
});

t.test('a recipient with several services for the type: only those the caller may use count', async (t) => {
  const routed = routeRecipients(submission([{ member: '000.00.00.H49' }]), { clientId: 'so-tp-qlvb', member: '000.00.15.H49', roles: ['agency' as const] }, registry, catalogue);
  t.same(routed.map((r) => r.envelope.to), [{ member: '000.00.00.H49', service: 'notice' }], 'the one service the caller may use, without naming it');
  const outsider = { clientId: 'so-tp-motcua', member: '000.00.15.H49', roles: ['agency' as const] };
  const refused = problemOf(() => routeRecipients(submission([{ member: '000.00.00.H49' }]), outsider, registry, catalogue));
  t.equal(refused.status, 403, 'no right to any of them');
  t.equal(refused.code, 'SERVICE_FORBIDDEN');
  t.notMatch(refused.detail, /leadership/, 'and the refusal names no service the caller may not use');
});
