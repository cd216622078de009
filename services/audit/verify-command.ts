// `lgsp audit verify [--db <file>] [--keys <platform-keys.json>]`: checks an audit store file
// offline. Exit codes: 0 intact, 1 tampered, 2 usage error or nothing to verify. The lgsp CLI
// dispatcher passes the arguments after `audit verify`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../platform/config.js';
import { PlatformKeystore } from '../platform/keystore.js';
import { verifyAuditChain } from './chain-verifier.js';
import { parseCommandArgs, UsageError } from '../cli/cli-args.js';

export const AUDIT_VERIFY_USAGE = `usage: lgsp audit verify [--db <audit.db>] [--keys <platform-keys.json>]

Recomputes the audit hash chain and checks every signed checkpoint.
  --db    audit store file (default: <dataDir>/audit.db from the configuration)
  --keys  platform keys file whose public keys verify the checkpoints (default: keysFile)
Exit status: 0 intact, 1 tampered, 2 usage error or missing file.`;

export interface CommandOutput {
  log(line: string): void;
  error(line: string): void;
}

export async function runAuditVerify(argv: string[], out: CommandOutput = console): Promise<number> {
  let args: { db?: string; keys?: string; help?: boolean };
  try {
    const { values, positionals } = parseCommandArgs(argv, { db: { type: 'string' }, keys: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    for (const name of ['db', 'keys'] as const) if (values[name] === '') throw new UsageError(`--${name} needs a file`);
    args = values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.error(`lgsp audit verify: ${err.message}\n${AUDIT_VERIFY_USAGE}`);
    return 2;
  }
  if (args.help) {
    out.log(AUDIT_VERIFY_USAGE);
    return 0;
  }

  let dbFile = args.db;
  let keysFile = args.keys;
  if (!dbFile || !keysFile) {
    try {
      const config = loadConfig();
      dbFile ??= join(config.dataDir, 'audit.db');
      keysFile ??= config.keysFile;
    } catch (err) {
      out.error(`lgsp audit verify: ${(err as Error).message}`);
      return 2;
    }
  }
  dbFile = resolve(dbFile);
  keysFile = resolve(keysFile);
  if (!existsSync(dbFile)) {
    out.error(`lgsp audit verify: no audit store at ${dbFile} (pass --db <file>)`);
    return 2;
  }
  // PlatformKeystore.open would create a fresh key for a missing file, and every checkpoint
  // would then look forged: a missing keys file is a usage error.
  if (!existsSync(keysFile)) {
    out.error(`lgsp audit verify: no platform keys file at ${keysFile} (pass --keys <file>)`);
    return 2;
  }

  let result;
  try {
    const keystore = await PlatformKeystore.open(keysFile);
    result = await verifyAuditChain(dbFile, keystore.keyResolver());
  } catch (err) {
    out.error(`lgsp audit verify: cannot read ${dbFile}: ${(err as Error).message}`);
    return 2;
  }

  out.log(`audit store ${dbFile}: ${result.entries} entries, ${result.checkpoints} checkpoints`);
  if (result.firstBad) {
    out.log(`TAMPERED: first bad entry seq ${result.firstBad.seq}: ${result.firstBad.reason}`);
    return 1;
  }
  const unsigned = result.entries - result.signedThrough;
  out.log(
    result.entries === 0
      ? 'OK: the audit store is empty'
      : unsigned > 0
      ? `OK: chain intact; entries 1..${result.signedThrough} covered by signed checkpoints, the ${unsigned} newest not yet signed`
      : 'OK: chain intact; every entry covered by a signed checkpoint',
  );
  return 0;
}
