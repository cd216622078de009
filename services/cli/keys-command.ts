// `lgsp keys init | rotate [--purpose P] [--service S]`: creates the per-service signing keys
// (first run; `npm start` does it too) or rotates them. Rotation publishes each new public key in
// the keyset first, then hands the private key to its service's file; running services pick up
// both without a restart (LGSP_KEYS_WATCH_MS), and the superseded key keeps verifying for
// LGSP_KEY_GRACE_SECONDS. Payload-encryption keys go the other way round (private file first,
// then the keyset) and the earlier private keys stay: they decrypt what was sealed for them.
import { resolve } from 'node:path';
import { loadConfig } from '../platform/config.js';
import { ensureKeys, rotateKeys } from '../platform/key-files.js';
import { holds, isEncryptionPurpose, isKeyPurpose, isKeyService, KEY_HOLDERS, KEY_PURPOSES, KEY_SERVICES, type KeyPurpose } from '../platform/key-purposes.js';
import { parseCommandArgs, UsageError } from './cli-args.js';
import { formatPeriod } from '../platform/duration-text.js';
import type { CommandOutput } from '../audit/verify-command.js';

export const KEYS_USAGE = `usage: lgsp keys init
       lgsp keys rotate [--purpose ${KEY_PURPOSES.join('|')}] [--service ${KEY_SERVICES.join('|')}]
Keys live in LGSP_KEYS_DIR/<service>/<purpose>.json (private, one directory per service) and
LGSP_JWKS_FILE (the public keyset). Without options, rotate renews every key.`;

export async function runKeysCommand(argv: string[], out: CommandOutput = console): Promise<number> {
  const [sub, ...rest] = argv;
  let options: { purpose?: string; service?: string };
  try {
    if (sub !== 'init' && sub !== 'rotate') throw new UsageError(`unknown keys command "${sub ?? ''}"`);
    const { values, positionals } = parseCommandArgs(rest, sub === 'rotate' ? { purpose: { type: 'string' }, service: { type: 'string' } } : {});
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    options = values as typeof options;
    if (options.purpose !== undefined && !isKeyPurpose(options.purpose)) throw new UsageError(`--purpose must be one of ${KEY_PURPOSES.join(', ')}`);
    if (options.service !== undefined && !isKeyService(options.service)) throw new UsageError(`--service must be one of ${KEY_SERVICES.join(', ')}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.error(`lgsp keys: ${err.message}\n${KEYS_USAGE}`);
    return 2;
  }
  const config = loadConfig();
  const keysDir = resolve(config.keysDir);
  const jwksFile = resolve(config.jwksFile);
  if (sub === 'init') {
    const created = await ensureKeys(keysDir, jwksFile);
    for (const c of created) out.log(`created ${c.purpose} key ${c.kid} for ${c.service}`);
    out.log(created.length === 0 ? 'every service already has its keys' : `published in ${jwksFile}`);
    return 0;
  }
  const purpose = isKeyPurpose(options.purpose) ? options.purpose : undefined;
  const service = isKeyService(options.service) ? options.service : undefined;
  // The moment the superseded keys were marked, for the end of their grace period.
  const rotatedAt = Date.now();
  const rotated = await rotateKeys(keysDir, jwksFile, { purpose, service }, () => rotatedAt);
  if (rotated.length === 0) {
    // Only a purpose and a service that does not hold it select nothing (every purpose has a holder).
    const holders = KEY_SERVICES.filter((s) => purpose === undefined || holds(s, purpose));
    const said = service === undefined ? `no service holds a ${purpose} key` : `the ${service} service holds no ${purpose} key`;
    const held = purpose !== undefined && holders.length > 0 ? `; ${purpose} keys are held by ${holders.join(', ')}` : '';
    out.error(`lgsp keys: ${said}${held}. Keys each service holds: ${KEY_SERVICES.map((s) => `${s}: ${KEY_HOLDERS[s].join(', ')}`).join('; ')}`);
    return 2;
  }
  // The grace period ends this many seconds after the moment rotateKeys() marked (whole seconds).
  const graceEnds = new Date((Math.floor(rotatedAt / 1000) + config.keyGraceSeconds) * 1000).toISOString().replace('.000Z', 'Z');
  for (const r of rotated) {
    out.log(`${r.service} ${r.purpose}: new key ${r.kid}${replaced(r, formatPeriod(config.keyGraceSeconds), graceEnds)}`);
  }
  out.log(`${inWhatOrder(rotated, jwksFile)}; running services take ${rotated.length === 1 ? 'it' : 'them'} within a few seconds, without a restart (LGSP_KEYS_WATCH_MS)`);
  return 0;
}

/** The order the files were written in, said of the kinds of key that were rotated only. */
function inWhatOrder(rotated: ReadonlyArray<{ purpose: KeyPurpose }>, jwksFile: string): string {
  const decryption = rotated.filter((r) => isEncryptionPurpose(r.purpose)).length;
  const signing = rotated.length - decryption;
  const decryptionSaid =
    decryption === 1
      ? `the new decryption key was written to its private file before ${jwksFile} named it`
      : `the new decryption keys were written to their private files before ${jwksFile} named them`;
  if (signing === 0) return decryptionSaid;
  if (decryption === 0) {
    return signing === 1
      ? `the new signing key was published in ${jwksFile} before its private file changed`
      : `the new signing keys were published in ${jwksFile} before their private files changed`;
  }
  return `${decryptionSaid}, the new signing ${signing === 1 ? 'key published there before its private file changed' : 'keys published there before their private files changed'}`;
}

/** What became of the key a rotation replaced, said as it is. */
function replaced(r: { purpose: KeyPurpose; previous?: string; previousKept?: boolean }, grace: string, graceEnds: string): string {
  if (!r.previous) return '';
  if (!isEncryptionPurpose(r.purpose)) return ` (replaces ${r.previous}, which verifies for ${grace} more, until ${graceEnds})`;
  if (r.previousKept) return ` (replaces ${r.previous}, which stays in the private file and still decrypts what was sealed for it)`;
  return ` (replaces ${r.previous}, which the private file no longer held: what was sealed for it cannot be decrypted here; see docs/operator-guide.md, "Incident: a payload-encryption key is lost")`;
}
