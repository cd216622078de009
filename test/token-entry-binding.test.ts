// A token is good for the registry entry it was issued for (token-binding.ts): once that entry
// is gone — the client removed, or its id back under another member, with another key or secret —
// its tokens are refused by every service's bearer check (AccessTokenVerifier against the live
// registry: gateway, console, audit, runner), even though the client id is in the registry again.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { SignJWT, calculateJwkThumbprint, generateKeyPair, importJWK, type JWK } from 'jose';
import { LiveRegistry, StandingUntilValid } from '../services/platform/live-registry.js';
import { AccessTokenVerifier, JWT_BEARER_ASSERTION, issueAccessToken } from '../services/platform/access-token.js';
import { generateSigningJwk, type SigningKey } from '../services/platform/keystore.js';
import { hashSecret } from '../services/platform/secret-hash.js';
import { Registry, type RegistryData } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { AssertionReplayCache, ClientAuthenticator } from '../services/gateway/client-authentication.js';
import { jwkThumbprint } from '../services/platform/token-binding.js';
import { eventually, seedRegistry } from './helpers/test-bus.js';

const ISSUER = 'https://bus.example';
const CLIENT = 'so-tp-qlvb';
const catalogue = new SchemaCatalogue();
/** Every assertion id is new here: the replay cache is not what is tested. */
const noReplays = new AssertionReplayCache({ query: async () => ({ rowCount: 1 }) } as never);

type Auth = RegistryData['systems'][number]['auth'];

/** The seeds with the client's member and auth set. */
function registryWith(member: string, auth: Auth): RegistryData {
  const data = seedRegistry();
  const system = data.systems.find((s) => s.clientId === CLIENT)!;
  system.member = member;
  system.auth = auth;
  return data;
}

async function assertion(privateJwk: JWK): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid })
    .setIssuer(CLIENT)
    .setSubject(CLIENT)
    .setAudience(ISSUER)
    .setIssuedAt()
    .setExpirationTime('2m')
    .setJti(crypto.randomUUID())
    .sign(await importJWK(privateJwk, 'ES256'));
}

t.test('a token of a removed entry is refused when the client id comes back as another entry', async (t) => {
  const first = await generateSigningJwk();
  const second = await generateSigningJwk();
  t.equal(jwkThumbprint(first.publicJwk), await calculateJwkThumbprint(first.publicJwk), 'the thumbprint is RFC 7638\'s');
  const member = seedRegistry().systems.find((s) => s.clientId === CLIENT)!.member;
  const otherMember = seedRegistry().members.find((m) => m.code !== member)!.code;
  const secret = 'a-client-secret-for-this-test';

  const dir = t.testdir({ 'registry.json': JSON.stringify(registryWith(member, { jwks: { keys: [first.publicJwk] }, secretHash: hashSecret(secret) })) });
  const file = `${dir}/registry.json`;
  const live = LiveRegistry.watching(file, catalogue, undefined, 50);
  const auth = new ClientAuthenticator(live.get, [ISSUER], noReplays, live);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const tokenKey = { kid: 't1', alg: 'ES256', key: privateKey } as unknown as SigningKey;
  const verifier = new AccessTokenVerifier(async () => publicKey, ISSUER, live);
  /** A token as POST /v1/token issues it, for the client authenticated this way. */
  const tokenBy = async (authenticate: () => ReturnType<ClientAuthenticator['authenticate']>) => {
    const { entry } = await authenticate();
    return issueAccessToken(tokenKey, ISSUER, { clientId: CLIENT, member, roles: ['agency'], entry }, 300);
  };
  const byKey = (jwk: JWK) => tokenBy(async () => auth.authenticate({ client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await assertion(jwk) }, undefined));
  const bySecret = () => tokenBy(() => auth.authenticate({}, `Basic ${Buffer.from(`${CLIENT}:${secret}`).toString('base64')}`));
  const change = async (data: RegistryData) => {
    const before = live.get();
    writeFileSync(file, JSON.stringify(data));
    await eventually(() => live.get() !== before, 5000);
  };

  const keyToken = await byKey(first.privateJwk);
  const secretToken = await bySecret();
  t.match(await verifier.verify(keyToken), { clientId: CLIENT, member }, 'a token of the entry in use is taken');
  t.match(await verifier.verify(secretToken), { clientId: CLIENT, member });
  const unbound = await issueAccessToken(tokenKey, ISSUER, { clientId: CLIENT, member, roles: ['agency'] }, 300);
  await t.rejects(verifier.verify(unbound), /issued for an entry of client so-tp-qlvb that is no longer in the registry/, 'a token naming no entry is refused (deny by default)');

  // Removed, then back under another member with the same key: the old tokens are not the new entry's.
  const removed = registryWith(member, {});
  removed.systems = removed.systems.filter((s) => s.clientId !== CLIENT);
  removed.services = removed.services.filter((s) => s.system !== CLIENT);
  removed.accessRights = removed.accessRights.filter((a) => a.client !== CLIENT && removed.services.some((s) => s.code === a.service));
  await change(removed);
  await t.rejects(verifier.verify(keyToken), /not in the registry/);
  const moved = registryWith(otherMember, { jwks: { keys: [first.publicJwk] }, secretHash: hashSecret(secret) });
  moved.services = moved.services.filter((s) => s.system !== CLIENT);
  await change(moved);
  await t.rejects(verifier.verify(keyToken), /no longer in the registry/, 'another member: refused');
  await t.rejects(verifier.verify(secretToken), /no longer in the registry/, 'another member: refused (secret)');
  t.match(await verifier.verify(await byKey(first.privateJwk)), { clientId: CLIENT, member: otherMember }, 'the new entry\'s own token is taken');

  // Back under its member with a new key and a new secret: the old key's and old secret's tokens are refused.
  await change(registryWith(member, { jwks: { keys: [second.publicJwk] }, secretHash: hashSecret('another-secret') }));
  await t.rejects(verifier.verify(keyToken), /no longer in the registry/, 'a new key: refused');
  await t.rejects(verifier.verify(secretToken), /no longer in the registry/, 'a new secret: refused');
  t.ok(await verifier.verify(await byKey(second.privateJwk)), 'the new key\'s token is taken');

  // A key added beside the one in use (a rotation) leaves that key's tokens working.
  const secondToken = await byKey(second.privateJwk);
  await change(registryWith(member, { jwks: { keys: [second.publicJwk, first.publicJwk] } }));
  t.ok(await verifier.verify(secondToken), 'adding a key does not refuse the tokens of the key kept');
  await change(registryWith(member, { jwks: { keys: [first.publicJwk] } }));
  await t.rejects(verifier.verify(secondToken), /no longer in the registry/, 'removing the key that obtained a token refuses it');
});

t.test('a service whose registry file is not valid yet (the audit at start) binds tokens to the entries the file lists', async (t) => {
  const key = await generateSigningJwk();
  const other = await generateSigningJwk();
  const member = seedRegistry().systems.find((s) => s.clientId === CLIENT)!.member;
  const valid = registryWith(member, { jwks: { keys: [key.publicJwk] } });
  const live = new LiveRegistry(Registry.fromData(valid, catalogue));
  const auth = new ClientAuthenticator(live.get, [ISSUER], noReplays, live);
  const { entry } = await auth.authenticate({ client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await assertion(key.privateJwk) }, undefined);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const token = await issueAccessToken({ kid: 't1', alg: 'ES256', key: privateKey } as unknown as SigningKey, ISSUER, { clientId: CLIENT, member, roles: ['agency'], entry }, 300);

  const invalid = (auth: Auth) => ({ ...registryWith(member, auth), unexpected: true });
  let file: unknown = invalid({ jwks: { keys: [key.publicJwk] } });
  const standing = new StandingUntilValid(() => Registry.fromData(file, catalogue), () => file);
  const verifier = new AccessTokenVerifier(async () => publicKey, ISSUER, standing);
  t.ok(await verifier.verify(token), 'the entry the file lists: taken');
  file = invalid({ jwks: { keys: [other.publicJwk] } });
  standing.changed();
  t.equal(standing.registry, null, 'the file is still not valid');
  await t.rejects(verifier.verify(token), /no longer in the registry/, 'another key in the file: refused');
});
