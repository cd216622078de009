// Where connector secrets come from at run time: LGSP_SECRET_<CONNECTOR>_<NAME>, or the file
// named by LGSP_SECRET_<CONNECTOR>_<NAME>_FILE (how Kubernetes and Docker mount secrets), or a
// value given in-process (tests). Values are kept out of every message: scrubError() (the SDK's,
// which its test harness applies the same way) replaces them in failure reasons before those
// reach the log, a dead letter's headers or the audit log.
import { readFileSync } from 'node:fs';
import { secretEnvName, type SecretDeclaration } from '@lgsp/sdk/secrets';

export function resolveSecretValues(
  connector: string,
  declared: Record<string, SecretDeclaration> | undefined,
  env: NodeJS.ProcessEnv,
  given: Record<string, string> = {},
): Map<string, string> {
  const values = new Map<string, string>();
  for (const name of Object.keys(declared ?? {})) {
    const variable = secretEnvName(connector, name);
    let value = given[name] ?? env[variable];
    const file = env[`${variable}_FILE`];
    if (!value && file) {
      try {
        value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new Error(`secret "${name}": cannot read ${variable}_FILE (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    }
    if (value) values.set(name, value);
  }
  return values;
}
