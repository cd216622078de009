// Connectors import the SDK by its package name, `@lgsp/sdk`. Node resolves a bare name from the
// importing file's folder upwards, so a connector kept outside this project's tree (a directory of
// LGSP_CONNECTOR_DIRS such as a volume mounted at /srv/lgsp/connectors, a package in another
// checkout) found no `@lgsp/sdk` — the SDK is not on a registry to install beside it — and failed
// to start with "Cannot find package '@lgsp/sdk'". The runner provides the SDK to every
// connector it hosts, as an application server provides its API: a bare `@lgsp/sdk` or
// `@lgsp/sdk/<entry>` import resolves as if this file made it, so each connector, wherever it
// lives, runs against the runner's one copy (the version the runner was built and tested with).
import { registerHooks } from 'node:module';

const SDK = '@lgsp/sdk';

let provided = false;

/** Resolves `@lgsp/sdk` imports from anywhere to the runner's own SDK (once per process). */
export function provideSdkToConnectors(): void {
  if (provided) return;
  provided = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === SDK || specifier.startsWith(`${SDK}/`)) return nextResolve(specifier, { ...context, parentURL: import.meta.url });
      return nextResolve(specifier, context);
    },
  });
}
