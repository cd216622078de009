// A project of an integrator's own, made in a temp dir for tests that run what they would run
// there (the scaffold's tests, the connector guide's commands): its package.json, empty
// connectors/ and test/, and this repository's SDK, test helpers, services and node_modules
// linked in rather than copied.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';

export function linkedProjectCopy(root: string, packageJson: Record<string, unknown>): void {
  writeFileSync(join(root, 'package.json'), JSON.stringify(packageJson));
  mkdirSync(join(root, 'connectors'));
  mkdirSync(join(root, 'test'));
  symlinkSync(join(PROJECT_ROOT, 'connectors', 'sdk'), join(root, 'connectors', 'sdk'));
  symlinkSync(join(PROJECT_ROOT, 'test', 'helpers'), join(root, 'test', 'helpers'));
  symlinkSync(join(PROJECT_ROOT, 'services'), join(root, 'services'));
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'));
}
