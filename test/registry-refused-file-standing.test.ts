// A registry file that is refused as invalid only takes away (live-registry.ts): a system it
// disables or removes is refused at once, but one it enables again stays disabled while the
// registry in use (with the system's old, perhaps leaked, key) is kept; a half-written file after
// it changes nothing (the systems it disabled stay refused); and a system or member listed twice
// is refused as inconsistent instead of one entry silently winning.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { LiveRegistry } from '../services/platform/live-registry.js';
import { Registry, type RegistryData } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { eventually, seedRegistry } from './helpers/test-bus.js';

const SYSTEM = 'so-tp-qlvb';

function watched(t: Test, data: RegistryData): { file: string; live: LiveRegistry } {
  const dir = t.testdir({ 'registry.json': JSON.stringify(data) });
  const file = `${dir}/registry.json`;
  return { file, live: LiveRegistry.watching(file, new SchemaCatalogue(), undefined, 50) };
}

/** Writes `text` and waits until the registry has looked at it (refused it). */
async function refusedFile(live: LiveRegistry, file: string, text: string): Promise<void> {
  const before = live.refused;
  writeFileSync(file, text);
  await eventually(() => live.refused !== null && live.refused !== before, 5000);
}

function invalid(data: RegistryData): string {
  return JSON.stringify({ ...data, unexpected: true });
}

t.test('a refused file does not enable a system the registry in use disables', async (t) => {
  const leaked: RegistryData = seedRegistry();
  leaked.systems.find((s) => s.clientId === SYSTEM)!.disabled = true;
  const { file, live } = watched(t, leaked);
  t.match(live.refusal(SYSTEM), /disabled/);

  // The operator replaces the leaked key and enables the system, with a typo elsewhere.
  const fixed: RegistryData = structuredClone(leaked);
  const entry = fixed.systems.find((s) => s.clientId === SYSTEM)!;
  delete entry.disabled;
  entry.auth = { secretHash: 'scrypt$bmV3LXNhbHQ$bmV3LWhhc2g' };
  await refusedFile(live, file, invalid(fixed));
  t.equal(live.get().system(SYSTEM)?.disabled, true, 'the registry in use (the old key) is kept');
  t.match(live.refusal(SYSTEM), /disabled in the registry/, 'and its system stays disabled until a valid file enables it');

  writeFileSync(file, JSON.stringify(fixed));
  await eventually(() => live.refused === null, 5000);
  t.equal(live.refusal(SYSTEM), null, 'a valid file enables it');
});

t.test('a half-written file after a refused one keeps the systems that one disabled refused', async (t) => {
  const seeds = seedRegistry();
  const { file, live } = watched(t, seeds);
  const revoked: RegistryData = structuredClone(seeds);
  revoked.systems.find((s) => s.clientId === SYSTEM)!.disabled = true;
  await refusedFile(live, file, invalid(revoked));
  t.match(live.refusal(SYSTEM), /disabled in the registry/);
  // An editor writing the file in place: the next check may find it cut short.
  await refusedFile(live, file, JSON.stringify(revoked).slice(0, 200));
  t.match(live.refused!.reason, /not valid JSON/);
  t.match(live.refusal(SYSTEM), /disabled in the registry/, 'a file that cannot be parsed changes nothing');
});

t.test('a system or member listed twice is refused', async (t) => {
  const seeds = seedRegistry();
  const catalogue = new SchemaCatalogue();
  const other = seeds.members.find((m) => m.code !== seeds.systems.find((s) => s.clientId === SYSTEM)!.member)!.code;
  // Copied under the member it moves to, the first entry (disabled) left behind.
  const moved: RegistryData = structuredClone(seeds);
  const original = moved.systems.find((s) => s.clientId === SYSTEM)!;
  original.disabled = true;
  moved.systems.push({ ...structuredClone(original), member: other, disabled: false });
  t.throws(() => Registry.fromData(moved, catalogue), new RegExp(`system ${SYSTEM} is listed twice`));
  const members: RegistryData = structuredClone(seeds);
  members.members.push(structuredClone(members.members[0]));
  t.throws(() => Registry.fromData(members, catalogue), new RegExp(`member ${members.members[0].code} is listed twice`));

  const { file, live } = watched(t, seeds);
  await refusedFile(live, file, JSON.stringify(moved));
  t.match(live.refusal(SYSTEM), /disabled in the registry/, 'either entry disabling it disables it');
  t.equal(live.memberOf(SYSTEM), original.member, 'it stays with the member of the registry in use');
});
