// A connector's TypeScript source as an integrator's project holds it, together with what
// `npm run build` makes of it (<project>/dist/connectors/…/index.js). The runner under test runs
// from dist/ as in production, so it loads a connector's build, not its source.
import { mkdirSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, sep } from 'node:path';

/** Writes `file` (a .ts under a `connectors/` folder) and its build; returns the build's path. */
export function writeConnectorSource(file: string, source: string): string {
  const at = file.lastIndexOf(`${sep}connectors${sep}`);
  if (at < 0 || !file.endsWith('.ts')) throw new Error(`${file}: not a .ts file under a connectors/ folder`);
  const built = join(file.slice(0, at), 'dist', file.slice(at + 1).replace(/\.ts$/, '.js'));
  for (const [path, text] of [[file, source], [built, stripTypeScriptTypes(source, { mode: 'transform' })]]) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return built;
}
