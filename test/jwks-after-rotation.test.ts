// A receiver verifies a delivery against GET /.well-known/jwks.json?purpose=delivery and, meeting
// an unknown kid, fetches the keyset again (README, "How messages are signed"). That only works
// if the gateway publishes a rotated key before any signer can use it. `lgsp keys rotate` writes
// the keyset first and the signers' private files after; but gateway and runner each looked at
// their files on their own LGSP_KEYS_WATCH_MS phase, so a runner that looked first signed
// deliveries with a key the JWKS did not list yet (on `npm start`, 27 of 135 deliveries in the
// 1.1 s after a rotation). The JWKS must be the keyset file as it is when asked. The watch
// interval is set far beyond the test here, so only the answer's own look at the file can find
// the new keys.
import t from 'tap';
import { rotateKeys } from '../services/platform/key-files.js';
import { startTestBus } from './helpers/test-bus.js';

process.env.LGSP_KEYS_WATCH_MS = '600000';

t.test('the JWKS lists a rotated key as soon as the rotation has written it', async (t) => {
  const bus = await startTestBus(t, { name: 'jwks-rotation', runner: false });
  const deliveryKids = async () => {
    const response = await fetch(`${bus.gateway.url}/.well-known/jwks.json?purpose=delivery`);
    const body = (await response.json()) as { keys: { kid: string; lgsp_service: string; lgsp_superseded_at?: number }[] };
    return body.keys;
  };
  const before = await deliveryKids();
  t.ok(before.length > 0, `delivery keys published before the rotation (${before.map((k) => k.lgsp_service).join(', ')})`);

  const rotated = await rotateKeys(bus.config.keysDir, bus.config.jwksFile, { purpose: 'delivery' });
  t.ok(rotated.length > 0, `rotated ${rotated.map((r) => r.service).join(', ')}`);
  // Asked straight away: a signer may already have its new private key.
  const after = await deliveryKids();
  for (const r of rotated) {
    t.ok(after.some((k) => k.kid === r.kid && k.lgsp_superseded_at === undefined), `${r.service}'s new delivery key ${r.kid} is published at once`);
    t.ok(after.some((k) => k.kid === r.previous && typeof k.lgsp_superseded_at === 'number'), `its previous key still verifies, marked superseded`);
  }

  // A second rotation within the same moment is a new file too (not the same modification time).
  const again = await rotateKeys(bus.config.keysDir, bus.config.jwksFile, { purpose: 'delivery' });
  const third = await deliveryKids();
  t.ok(again.every((r) => third.some((k) => k.kid === r.kid)), 'and a rotation right after that one as well');
});
