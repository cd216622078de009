// The registry a service uses (live-registry.ts), without a bus: a valid file replaces it whole
// and at once, an invalid one keeps it (logged without the file's content), the systems' standing
// follows even a refused file, and a token's roles are those the registry in use grants.
import t from 'tap';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { generateKeyPair } from 'jose';
import { LiveRegistry } from '../services/platform/live-registry.js';
import { AccessTokenVerifier, issueAccessToken } from '../services/platform/access-token.js';
import { generateSigningJwk, type SigningKey } from '../services/platform/keystore.js';
import { entryFingerprint, jwkCredential } from '../services/platform/token-binding.js';
import type { Registry, RegistryData } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import type { Logger } from '../services/platform/logger.js';
import { eventually, seedRegistry } from './helpers/test-bus.js';

const SECRET_LOOKING = 'scrypt$c2VjcmV0LXNhbHQ$THIS-MUST-NOT-REACH-THE-LOG';

/** A logger that keeps what it is given. */
function recordingLogger(): { log: Logger; lines: { level: string; args: unknown[] }[] } {
  const lines: { level: string; args: unknown[] }[] = [];
  const at = (level: string) => (...args: unknown[]) => void lines.push({ level, args });
  return { log: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger, lines };
}

t.test('a valid file replaces the registry whole; an invalid one keeps it', async (t) => {
  const seeds = seedRegistry();
  const dir = t.testdir({ 'registry.json': JSON.stringify(seeds) });
  const file = `${dir}/registry.json`;
  const { log, lines } = recordingLogger();
  const live = LiveRegistry.watching(file, new SchemaCatalogue(), log, 50);
  const first = live.get();
  const changes: [Registry, Registry][] = [];
  live.onChange(() => {
    throw new Error('a listener that fails');
  });
  live.onChange((next, previous) => void changes.push([next, previous]));

  const next: RegistryData = structuredClone(seeds);
  next.accessRights = next.accessRights.filter((a) => a.client !== 'so-tttt-qlvb');
  writeFileSync(file, JSON.stringify(next));
  await eventually(() => live.get() !== first, 5000);
  const second = live.get();
  t.equal(changes.length, 1, 'the listeners are told, one failing listener notwithstanding');
  t.equal(changes[0][0], second);
  t.equal(changes[0][1], first);
  t.ok(first.data.accessRights.some((a) => a.client === 'so-tttt-qlvb'), 'a registry taken before is left as it was (one request sees one registry)');
  t.notOk(second.data.accessRights.some((a) => a.client === 'so-tttt-qlvb'));
  t.ok(lines.some((l) => l.level === 'error' && /listener failed/.test(String(l.args[1]))), 'the failing listener is logged');

  // Schema-invalid, with a secret-looking value, and disabling a system: kept, logged without the value.
  const invalid: RegistryData = structuredClone(next);
  invalid.systems.find((s) => s.clientId === 'so-tp-qlvb')!.disabled = true;
  (invalid.systems[0].auth as Record<string, unknown>).secretHash = SECRET_LOOKING;
  (invalid as unknown as Record<string, unknown>).unexpected = true;
  writeFileSync(file, JSON.stringify(invalid));
  await eventually(() => live.refused !== null, 5000);
  t.equal(live.get(), second, 'the registry in use is kept');
  t.match(live.refused!.reason, /unknown property "unexpected"/);
  t.match(live.readiness(), { ok: true, detail: /changed at .* but is not valid/ });
  t.match(live.refusal('so-tp-qlvb'), /disabled in the registry/, 'the systems\' standing follows even a refused file');
  t.equal(live.refusal('so-tttt-qlvb'), null);
  // Not JSON at all, around a secret-looking value.
  writeFileSync(file, `{"systems": [{"clientId": "so-tp-qlvb", "auth": {"secretHash": "${SECRET_LOOKING}"`);
  await eventually(() => /not valid JSON/.test(live.refused?.reason ?? ''), 5000);
  t.equal(live.get(), second);
  const errors = lines.filter((l) => l.level === 'error' && /not valid/.test(String(l.args[1])));
  t.equal(errors.length, 2, 'each refused file is logged at error level');
  t.notMatch(JSON.stringify(lines), /THIS-MUST-NOT-REACH-THE-LOG/, 'no secret-looking value of the file reaches the log');

  writeFileSync(file, JSON.stringify(seeds));
  await eventually(() => live.refused === null, 5000);
  t.equal(live.refusal('so-tp-qlvb'), null, 'a valid file decides again');
  t.ok(live.get().data.accessRights.some((a) => a.client === 'so-tttt-qlvb'));
});

t.test("a token's roles are those the registry in use grants; a system moved to another member needs a new token", async (t) => {
  const seeds = seedRegistry();
  const client = await generateSigningJwk();
  seeds.systems.find((s) => s.clientId === 'lgsp-operator')!.auth = { jwks: { keys: [client.publicJwk] } };
  const dir = t.testdir({ 'registry.json': JSON.stringify(seeds) });
  const file = `${dir}/registry.json`;
  const live = LiveRegistry.watching(file, new SchemaCatalogue(), undefined, 50);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const key = { kid: 'k1', alg: 'ES256', key: privateKey } as unknown as SigningKey;
  const verifier = new AccessTokenVerifier(async () => publicKey, 'https://bus.example', live);
  // As the token endpoint binds it: to the member and the key the client authenticated with (token-binding.ts).
  const entry = entryFingerprint('000.00.12.H49', jwkCredential(client.publicJwk));
  const token = await issueAccessToken(key, 'https://bus.example', { clientId: 'lgsp-operator', member: '000.00.12.H49', roles: ['operator'], entry }, 300);
  t.match(await verifier.verify(token), { clientId: 'lgsp-operator', member: '000.00.12.H49', roles: ['operator'] });

  const changed: RegistryData = structuredClone(seeds);
  const operator = changed.systems.find((s) => s.clientId === 'lgsp-operator')!;
  operator.roles = ['observer'];
  writeFileSync(file, JSON.stringify(changed));
  await eventually(() => live.get().system('lgsp-operator')?.roles?.[0] === 'observer', 5000);
  t.same(await verifier.verify(token), { clientId: 'lgsp-operator', member: '000.00.12.H49', roles: [], entry }, 'the role taken away is gone (a granted one is not added)');

  operator.member = '000.00.00.H49';
  writeFileSync(file, JSON.stringify(changed));
  await eventually(() => live.get().system('lgsp-operator')?.member === '000.00.00.H49', 5000);
  await t.rejects(verifier.verify(token), /issued for an entry of client lgsp-operator that is no longer in the registry/, 'moved to another member: its token is refused, a new one acts as that member');

  writeFileSync(file, JSON.stringify(seeds));
  await eventually(() => live.get().system('lgsp-operator')?.member === '000.00.12.H49', 5000);
  t.same((await verifier.verify(token)).roles, ['operator'], 'given back, the role counts again for the token that carries it');
});

t.test('a registry file deleted while the service runs: warned once, said in readiness, and again when it is back', async (t) => {
  const seeds = seedRegistry();
  const dir = t.testdir({ 'registry.json': JSON.stringify(seeds) });
  const file = `${dir}/registry.json`;
  const { log, lines } = recordingLogger();
  const live = LiveRegistry.watching(file, new SchemaCatalogue(), log, 50);
  const first = live.get();
  const warnings = () => lines.filter((l) => l.level === 'warn').map((l) => String(l.args[1]));

  rmSync(file);
  await eventually(() => warnings().length > 0, 5000);
  await new Promise((r) => setTimeout(r, 300));
  t.same(warnings(), ['registry file is missing: keeping the registry loaded before until it is back'], 'one warning, not one per check');
  t.equal(live.get(), first, 'the registry loaded before is in use');
  t.match(live.readiness(), { ok: true, detail: /the registry file has been missing since .*: the registry loaded before is in use/ }, 'readiness says so and stays ready');

  const next: RegistryData = structuredClone(seeds);
  next.accessRights = next.accessRights.filter((a) => a.client !== 'so-tttt-qlvb');
  writeFileSync(file, JSON.stringify(next));
  await eventually(() => live.get() !== first, 5000);
  t.equal(warnings()[1], 'registry file is back', 'its return is logged');
  t.notMatch(live.readiness().detail, /missing/, 'readiness no longer says it is missing');
});

t.test('latest() reads an edit at once, without waiting for the next check', async (t) => {
  const seeds = seedRegistry();
  const dir = t.testdir({ 'registry.json': JSON.stringify(seeds) });
  const file = `${dir}/registry.json`;
  const { log } = recordingLogger();
  // A check every ten minutes: only latest() can find the edit within the test.
  const live = LiveRegistry.watching(file, new SchemaCatalogue(), log, 600_000);
  const first = live.get();
  t.equal(live.latest(), first, 'an unchanged file: the registry in use, not read again');

  const next: RegistryData = structuredClone(seeds);
  next.members.push({ code: '000.00.98.H49', name: 'Sở Mới', level: 'department', parent: '000.00.00.H49' });
  writeFileSync(file, JSON.stringify(next));
  // A modification time of its own, whatever the filesystem's clock granularity.
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  t.equal(live.get(), first, 'the timer has not looked yet');
  const latest = live.latest();
  t.not(latest, first, 'latest() read the file');
  t.ok(latest.member('000.00.98.H49'), 'and the new member is there');
  t.equal(live.get(), latest, 'for every lookup from then on');
});

t.test('a token issued by an instance that read an edit first is taken at once: its key, its role', async (t) => {
  const seeds = seedRegistry();
  const oldKey = await generateSigningJwk();
  seeds.systems.find((s) => s.clientId === 'lgsp-operator')!.auth = { jwks: { keys: [oldKey.publicJwk] } };
  seeds.systems.find((s) => s.clientId === 'lgsp-operator')!.roles = ['observer'];
  const dir = t.testdir({ 'registry.json': JSON.stringify(seeds) });
  const file = `${dir}/registry.json`;
  // A check every ten minutes: only the refusals' own look at the file can find the edit.
  const live = LiveRegistry.watching(file, new SchemaCatalogue(), undefined, 600_000);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const key = { kid: 'k1', alg: 'ES256', key: privateKey } as unknown as SigningKey;
  const verifier = new AccessTokenVerifier(async () => publicKey, 'https://bus.example', live);

  // The edit: the key replaced and the operator role granted. Another gateway read it and issued this token.
  const newKey = await generateSigningJwk();
  const changed: RegistryData = structuredClone(seeds);
  const operator = changed.systems.find((s) => s.clientId === 'lgsp-operator')!;
  operator.auth = { jwks: { keys: [newKey.publicJwk] } };
  operator.roles = ['operator'];
  writeFileSync(file, JSON.stringify(changed));
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const entry = entryFingerprint('000.00.12.H49', jwkCredential(newKey.publicJwk));
  const token = await issueAccessToken(key, 'https://bus.example', { clientId: 'lgsp-operator', member: '000.00.12.H49', roles: ['operator'], entry }, 300);
  t.match(await verifier.verify(token), { clientId: 'lgsp-operator', roles: ['operator'] }, 'taken with its role, though the timer has not read the file');

  // Nothing is given that the file does not say: a role it does not grant stays out after the look.
  const wider = await issueAccessToken(key, 'https://bus.example', { clientId: 'lgsp-operator', member: '000.00.12.H49', roles: ['operator', 'observer'], entry }, 300);
  t.same((await verifier.verify(wider)).roles, ['operator'], 'only the roles the file grants');
});
