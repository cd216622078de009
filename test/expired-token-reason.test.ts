// An expired access token is refused saying so and what to do (get a new one from POST
// /v1/token), not in jose's words ('"exp" claim timestamp check failed'): tokens live minutes, so
// it is the refusal an agency system meets most, in the problem's detail on every service.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessTokenVerifier, issueAccessToken } from '../services/platform/access-token.js';
import { createTestKeys } from './helpers/test-keys.js';

const ISSUER = 'http://127.0.0.1:8080';
const caller = { clientId: 'so-tttt-qlvb', member: '000.00.12.H49', roles: ['agency' as const] };

t.test('an expired token is refused with its expiry and the way to a new one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-expired-token-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keys = await createTestKeys(dir);
  const tokens = new AccessTokenVerifier(keys.publicKeys.resolver('token'), ISSUER);
  const key = await keys.signing('gateway', 'token');

  const expired = await issueAccessToken(key, ISSUER, caller, -120);
  const exp = JSON.parse(Buffer.from(expired.split('.')[1], 'base64url').toString()).exp as number;
  await t.rejects(tokens.verify(expired), { message: `token rejected: it expired at ${new Date(exp * 1000).toISOString()}; get a new one from POST /v1/token` });

  // Other refusals keep their reason.
  await t.rejects(tokens.verify(await issueAccessToken(key, 'http://elsewhere', caller, 60)), /token rejected: unexpected "iss" claim value/);
  t.match(await tokens.verify(await issueAccessToken(key, ISSUER, caller, 60)), { clientId: 'so-tttt-qlvb' });
});
