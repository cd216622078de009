// The demo agency systems' fault modes, as the operator guide's outage rehearsal sets them. A
// mode the simulator does not know ("dwon") used to be answered 200 and left the system taking
// every delivery: the operator then watched for retries that never came. It is refused instead.
import t from 'tap';
import { buildAgencySimulator } from '../services/agency-simulator/simulator-app.js';

t.test('the agency simulator refuses a mode it does not know and applies the ones it does', async (t) => {
  const { app } = await buildAgencySimulator(async () => {
    throw new Error('no key needed: the mode answers before the signature is checked');
  });
  t.teardown(() => app.close());
  const setMode = (body: unknown) => app.inject({ method: 'PUT', url: '/_admin/systems/so-tp-qlvb/mode', payload: body as object });

  const typo = await setMode({ mode: 'dwon' });
  t.equal(typo.statusCode, 400, typo.body);
  // The simulator's own control answers are RFC 9457 problem+json, as the bus's are.
  t.match(typo.headers['content-type'], /^application\/problem\+json/);
  t.match(typo.json(), { status: 400, code: 'VALIDATION_FAILED', title: String, type: String, errors: [{ field: 'mode', message: /must be one of "ok", "down"/ }] }, 'the answer names the field');
  t.match(typo.json().detail, /^Invalid body: mode must be one of/);
  const noNumber = await setMode({ mode: 'fail', failures: 'three' });
  t.equal(noNumber.statusCode, 400, noNumber.body);
  t.match(noNumber.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'failures' }] });
  const malformed = await app.inject({ method: 'PUT', url: '/_admin/systems/so-tp-qlvb/mode', headers: { 'content-type': 'application/json' }, payload: '{"mode":' });
  t.match([malformed.statusCode, malformed.headers['content-type'], malformed.json().code], [400, /^application\/problem\+json/, 'MALFORMED_JSON']);
  const nowhere = await app.inject({ method: 'GET', url: '/_admin/systems/so-tp-qlvb/nothing' });
  t.match([nowhere.statusCode, nowhere.headers['content-type'], nowhere.json().code], [404, /^application\/problem\+json/, 'ROUTE_NOT_FOUND'], 'an unknown control path');

  const delivery = () => app.inject({ method: 'POST', url: '/so-tp-qlvb', headers: { 'content-type': 'application/jose' }, payload: 'x.y.z' });
  t.equal((await delivery()).statusCode, 401, 'still ok (normal) after the refused modes: the signature is what fails');
  t.equal((await setMode({ mode: 'down' })).statusCode, 200);
  t.equal((await delivery()).statusCode, 503, 'down: 503 to every delivery');
  t.equal((await setMode({ mode: 'fail', failures: 1, status: 502 })).statusCode, 200);
  t.equal((await delivery()).statusCode, 502, 'fail: the next one with the status asked for');
  t.equal((await delivery()).statusCode, 401, 'then normal again');
});
