// Locates the installed package root (where schemas/, seeds/ and connectors/ live) whether the
// code runs compiled from dist/ or as TypeScript under the test loader.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'schemas'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the lgsp-bus package root');
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();
