// Loaded into every test process (tap's `node-arg`), in place of a TypeScript loader.
//
// `npm test` compiles services/, connectors/, test/bench/ and test/chaos/ into dist/ before tap
// starts (deploy/bootstrap.mjs), and the services the tests spawn run from there. A test that
// imports that code in its own process gets the same compiled files rather than transpiling the
// sources again: the TypeScript loader this replaces spent about 6 s of CPU per test file on
// that (importing the test bus helper: 8.2 s of CPU, now 0.8). A compiled file older than its source (a change
// not yet built, as under a bare `npx tap`) is not used: the source is.
//
// What runs as TypeScript (test files, test/helpers/, sources not built) Node.js runs itself
// (`--experimental-transform-types`). Those files import their siblings under the `.js` name tsc
// expects; this hook finds the `.ts` file beside it.
import { existsSync, statSync } from 'node:fs';
import { registerHooks } from 'node:module';

// The project root, from this file's real path (test/helpers/ may be reached through a symlink).
const ROOT = new URL('../../', import.meta.url).href;
/** What tsconfig.json compiles into dist/ (deploy/bootstrap.mjs's SOURCE_DIRS). */
const COMPILED = ['services/', 'connectors/', 'test/bench/', 'test/chaos/'];

const modifiedAt = (url) => {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
};

/** dist/'s build of a project source file, when it exists and is not older than the source. */
function builtCounterpart(url) {
  if (!url.href.startsWith(ROOT)) return undefined;
  const path = url.href.slice(ROOT.length);
  if (!COMPILED.some((dir) => path.startsWith(dir)) || !/\.[jt]s$/.test(path)) return undefined;
  const source = new URL(`${ROOT}${path.replace(/\.js$/, '.ts')}`);
  const built = new URL(`${ROOT}dist/${path.replace(/\.ts$/, '.js')}`);
  const builtAt = modifiedAt(built);
  const changedAt = modifiedAt(source);
  return builtAt !== undefined && (changedAt === undefined || builtAt >= changedAt) ? built : undefined;
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const parent = context.parentURL;
    let wanted = specifier;
    if (parent?.startsWith('file:') && /^(\.{1,2}\/|\/|file:)/.test(specifier)) {
      const url = new URL(specifier, parent);
      if (!url.pathname.includes('/node_modules/')) {
        const built = builtCounterpart(url);
        if (built) return nextResolve(built.href, context);
        if (url.pathname.endsWith('.js') && !existsSync(url)) {
          const source = new URL(url.href.replace(/\.js$/, '.ts'));
          if (existsSync(source)) wanted = source.href;
        }
      }
    }
    // A package import (`@lgsp/sdk`) resolves to its source under `--conditions=lgsp-source`:
    // its build instead, when that is current.
    const resolved = nextResolve(wanted, context);
    const built = resolved.url.endsWith('.ts') ? builtCounterpart(new URL(resolved.url)) : undefined;
    // The format found for the source (module-typescript) is left for Node.js to find again.
    return built ? { ...resolved, url: built.href, format: undefined } : resolved;
  },
});
