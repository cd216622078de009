// An operator revoking a leaked key in a hurry writes `"disabled": "true"` (or `1`, `"yes"`): the
// schema refuses the file, and the registry in use is kept — but the revocation must not wait for
// the value to be spelt right (operator guide, "Disabling a system": a revocation never waits for
// the rest of the file to be right). A refused file's `disabled` that is present and not the
// boolean `false` disables; such a file only takes away, so nothing is enabled by it.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { LiveRegistry, StandingUntilValid } from '../services/platform/live-registry.js';
import { Registry, type RegistryData } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { eventually, seedRegistry } from './helpers/test-bus.js';

const SYSTEM = 'so-tp-qlvb';
const OTHER = 'so-tttt-qlvb';

function withDisabled(value: unknown): string {
  const data = structuredClone(seedRegistry()) as unknown as { systems: { clientId: string; disabled?: unknown }[] };
  data.systems.find((s) => s.clientId === SYSTEM)!.disabled = value;
  return JSON.stringify(data);
}

for (const value of ['true', 1, 'yes']) {
  t.test(`"disabled": ${JSON.stringify(value)} in a refused file disables the system`, async (t) => {
    const dir = t.testdir({ 'registry.json': JSON.stringify(seedRegistry()) });
    const file = `${dir}/registry.json`;
    const live = LiveRegistry.watching(file, new SchemaCatalogue(), undefined, 50);
    t.equal(live.refusal(SYSTEM), null);
    writeFileSync(file, withDisabled(value));
    await eventually(() => live.refused !== null, 5000);
    t.match(live.refused!.reason, /disabled must be boolean/, 'the file is refused as invalid');
    t.match(live.refusal(SYSTEM), /disabled in the registry/, 'and the system it meant to disable is refused all the same');
    t.equal(live.refusal(OTHER), null, 'other systems are not touched');
  });
}

t.test('the audit, started on such a file, refuses the system too', async (t) => {
  const text = withDisabled('true');
  const catalogue = new SchemaCatalogue();
  const standing = new StandingUntilValid(() => Registry.fromData(JSON.parse(text) as RegistryData, catalogue), () => JSON.parse(text));
  t.match(standing.refusal(SYSTEM), /disabled/);
  t.equal(standing.refusal(OTHER), null);
});
