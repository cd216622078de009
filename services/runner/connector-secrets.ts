// Where connector secrets come from at run time: LGSP_SECRET_<CONNECTOR>_<NAME>, or the file
// named by LGSP_SECRET_<CONNECTOR>_<NAME>_FILE (how Kubernetes and Docker mount secrets), or a
// value given in-process (tests). Values are kept out of every message: scrubSecrets() replaces
// them in failure reasons before those reach the log, a dead letter's headers or the audit log.
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

/** The text with every secret value (of 4 characters or more) replaced by [secret <name>]. */
export function scrubSecrets(text: string, values: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [name, value] of values) if (value.length >= 4) out = out.split(value).join(`[secret ${name}]`);
  return out;
}

/**
 * Scrubs an error's message and stack in place (it may carry a secret a library echoed back).
 * A thrown string is scrubbed too, and a thrown plain object (shown as JSON) is replaced by a
 * scrubbed copy: they reach the timeline and the status as their text, like an Error's message.
 */
export function scrubError(err: unknown, values: ReadonlyMap<string, string>): unknown {
  if (values.size === 0) return err;
  if (typeof err === 'string') return scrubSecrets(err, values);
  if (err !== null && typeof err === 'object' && !(err instanceof Error)) {
    try {
      const json = JSON.stringify(err);
      const scrubbed = json === undefined ? json : scrubSecrets(json, values);
      return scrubbed === json ? err : JSON.parse(scrubbed!);
    } catch {
      return err; // not JSON: shown as "(not serialisable)", no text of it
    }
  }
  if (!(err instanceof Error)) return err;
  err.message = scrubSecrets(err.message, values);
  if (err.stack) err.stack = scrubSecrets(err.stack, values);
  return err;
}
