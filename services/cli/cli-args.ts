// One argument-parsing style for every `lgsp` command: node:util parseArgs (strict: unknown
// options and missing values are usage errors, `--name value` and `--name=value` both work).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` against `options`; throws UsageError (with parseArgs' reason) on bad input. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
