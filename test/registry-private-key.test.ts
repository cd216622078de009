// A registry holds public keys only: a system's JWK with private or secret key material (a key
// generator's full output pasted in) is refused as an invalid registry, at start and on a live
// change, naming where the private part is and never its value.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair } from 'jose';
import { LiveRegistry } from '../services/platform/live-registry.js';
import { Registry, RegistryError, type RegistryData } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import type { Logger } from '../services/platform/logger.js';
import { eventually, seedRegistry } from './helpers/test-bus.js';

const catalogue = new SchemaCatalogue();

/** A logger that keeps what it is given. */
function recordingLogger(): { log: Logger; lines: unknown[][] } {
  const lines: unknown[][] = [];
  const at = (level: string) => (...args: unknown[]) => void lines.push([level, ...args]);
  return { log: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger, lines };
}

/** The seeds with `key` as the only key of the system at `index`. */
function withKey(index: number, key: Record<string, unknown>): RegistryData {
  const data = seedRegistry();
  data.systems[index].auth = { jwks: { keys: [key as never] } };
  return data;
}

t.test('a key with its private part, or a symmetric key, makes the registry invalid; its value is never shown', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  t.ok(Registry.fromData(withKey(1, { ...publicJwk, kid: 'k1' }), catalogue), 'the public key alone is taken');

  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
  const ec = withKey(1, privateJwk);
  const error = (() => {
    try {
      Registry.fromData(ec, catalogue);
    } catch (err) {
      return err as Error;
    }
    return null;
  })();
  t.type(error, RegistryError);
  t.match(error?.message, /systems\[1\]\.auth\.jwks\.keys\[0\]\.d is private key material/);
  t.notMatch(error?.message, String(privateJwk.d), 'the private value is not in the reason');

  const { privateKey: rsa } = await generateKeyPair('RS256', { extractable: true });
  const rsaJwk = await exportJWK(rsa);
  const rsaMessage = (() => {
    try {
      Registry.fromData(withKey(2, rsaJwk as Record<string, unknown>), catalogue);
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  })();
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.match(rsaMessage, `systems[2].auth.jwks.keys[0].${member} is private key material`, `RSA ${member} named`);
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) t.notMatch(rsaMessage, String(rsaJwk[member]), `RSA ${member} not shown`);

  t.throws(() => Registry.fromData(withKey(0, { kty: 'oct', k: 'c2hhcmVkLXNlY3JldC1tdXN0LW5vdC1zcHJlYWQ' }), catalogue), /systems\[0\]\.auth\.jwks\.keys\[0\]\.k is private key material/, 'a symmetric key');
});

t.test('at start a service does not take such a registry; on a live change the one in use stays and readiness says so', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'leaked' };
  const seeds = seedRegistry();
  const dir = t.testdir({ 'bad.json': JSON.stringify(withKey(1, privateJwk)), 'registry.json': JSON.stringify(seeds) });

  t.throws(() => LiveRegistry.watching(`${dir}/bad.json`, catalogue, undefined, 50), /systems\[1\]\.auth\.jwks\.keys\[0\]\.d is private key material/, 'not started on it');

  const { log, lines } = recordingLogger();
  const live = LiveRegistry.watching(`${dir}/registry.json`, catalogue, log, 50);
  const inUse = live.get();
  writeFileSync(`${dir}/registry.json`, JSON.stringify(withKey(1, privateJwk)));
  await eventually(() => live.refused !== null, 5000);
  t.equal(live.get(), inUse, 'the registry in use is kept');
  t.match(live.refused?.reason, /systems\[1\]\.auth\.jwks\.keys\[0\]\.d is private key material/);
  t.match(live.readiness(), { ok: true, detail: /changed at .* but is not valid/ });
  t.notMatch(JSON.stringify(lines), String(privateJwk.d), 'the private value is not logged');
  t.ok(lines.some((l) => l[0] === 'error'), 'the refusal is logged at error level');
});
