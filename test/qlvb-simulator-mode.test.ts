// The QLVB simulator's outage switch, as an operator rehearsing a document system's outage sets
// it. Any mode but "down" (a typo: "dwon") was taken as "up" and answered 200 with the typo
// echoed back, so the rehearsal never started. A mode it does not know is refused.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { QlvbSimulator } from '../services/qlvb-simulator/qlvb-simulator.js';

t.test('the QLVB simulator refuses a mode it does not know', async (t) => {
  const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const simulator = new QlvbSimulator({
    gatewayUrl: 'http://127.0.0.1:9',
    getKey: async () => {
      throw new Error('no delivery here');
    },
    systems: [{ clientId: 'vp-qlvb', member: '000.00.00.H49', organName: 'Văn phòng', mode: 'push', format: 'edxml', credentials: { clientId: 'vp-qlvb', privateJwk: await exportJWK(clientKey) } }],
  });
  t.teardown(() => simulator.stop());
  const setMode = (mode: string) => simulator.app.inject({ method: 'PUT', url: '/_admin/systems/vp-qlvb/mode', payload: { mode } });

  const typo = await setMode('dwon');
  t.equal(typo.statusCode, 400, typo.body);
  t.match(typo.headers['content-type'], /^application\/problem\+json/, 'problem+json, as the bus answers');
  t.match(typo.json(), { status: 400, code: 'VALIDATION_FAILED', title: String, type: String, detail: /^Invalid body: mode must be one of "ok", "down"/, errors: [{ field: 'mode' }] }, 'the answer names the field');
  t.notOk(simulator.down.has('vp-qlvb'));
  t.equal((await setMode('down')).statusCode, 200);
  t.ok(simulator.down.has('vp-qlvb'), 'down');
  t.equal((await setMode('ok')).statusCode, 200);
  t.notOk(simulator.down.has('vp-qlvb'), 'up again');
});
