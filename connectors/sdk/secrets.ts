// Secrets a connector needs (an API key, a password) are declared in defineConnector({ secrets })
// and never travel in its configuration: the runtime reads each from the environment variable
// LGSP_SECRET_<CONNECTOR>_<NAME> (or from the file named by ..._FILE, as container platforms
// mount them), checks the required ones at start, and hands them over through ctx.secrets.
// The object never prints its values (JSON, inspect, template strings), and the runtime
// scrubs them from failure reasons before those reach logs, dead letters or the audit trail.

export interface SecretDeclaration {
  description?: string;
  /** A missing optional secret does not fail the start; get() still throws when it is used. */
  optional?: boolean;
}

export interface ConnectorSecrets {
  /** The secret's value. Throws a permanent error naming the secret (never a value) when it is not set. */
  get(name: string): string;
  has(name: string): boolean;
}

/** Thrown when a secret is missing: permanent, the message names the variable to set. */
export class SecretUnavailableError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'SecretUnavailableError';
  }
}

const SECRET_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;

/** LGSP_SECRET_<CONNECTOR>_<NAME>: periodic-report + apiKey → LGSP_SECRET_PERIODIC_REPORT_API_KEY. */
export function secretEnvName(connector: string, name: string): string {
  if (!SECRET_NAME.test(name)) throw new Error(`secret name "${name}" must match ${SECRET_NAME}`);
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return `LGSP_SECRET_${connector.replace(/-/g, '_')}_${snake}`.toUpperCase();
}

/** The declared secrets that have no value (only required ones). */
export function missingSecrets(declared: Record<string, SecretDeclaration> | undefined, values: ReadonlyMap<string, string>): string[] {
  return Object.entries(declared ?? {}).filter(([name, d]) => !d.optional && !values.get(name)).map(([name]) => name);
}

/** The ctx.secrets object over resolved values; used by the runtime and by the test harness. */
export function secretsOf(connector: string, declared: Record<string, SecretDeclaration> | undefined, values: ReadonlyMap<string, string>): ConnectorSecrets {
  const names = Object.keys(declared ?? {});
  const secrets: ConnectorSecrets = {
    get(name: string): string {
      if (!names.includes(name)) throw new SecretUnavailableError(`connector ${connector} uses secret "${name}" but does not declare it in defineConnector({ secrets })`);
      const value = values.get(name);
      if (!value) throw new SecretUnavailableError(`secret "${name}" of connector ${connector} is not set (${secretEnvName(connector, name)})`);
      return value;
    },
    has: (name: string) => Boolean(values.get(name)),
  };
  // What a careless log line or error message would print instead of the values.
  const redacted = `[secrets of ${connector}: ${names.join(', ') || 'none'}]`;
  Object.defineProperties(secrets, {
    toJSON: { value: () => redacted },
    toString: { value: () => redacted },
    [Symbol.for('nodejs.util.inspect.custom')]: { value: () => redacted },
  });
  return secrets;
}

// Scrubbing lives here, beside the secrets, so that the runner and the SDK's test harness replace
// the same values in the same way: a harness outcome's reason is the one operators will read.
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
