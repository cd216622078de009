// A running service re-reads its key files when they change (`lgsp keys rotate`, a restored
// backup, a Secret update) and keeps the keys it holds whenever a file cannot be used: half
// written, broken, or gone. Keeping them is right; saying nothing was not: a rotation that did not
// take, or a key file deleted by mistake, showed only at the next restart, which then failed on it.
// This says each of these in the service's log, naming the file and never a key's material.
import { watchFileChanges } from './file-watch.js';
import type { Logger } from './logger.js';

/**
 * Why a key file cannot be used, in words safe for a log: JSON.parse's message may quote the text
 * around the fault ("Unexpected token 'M', \"MIGHAgEAMB\"... is not valid JSON"), and in a private
 * key file that text is key material.
 */
export function keyFileProblem(err: unknown): string {
  if (err instanceof SyntaxError) return 'the file is not valid JSON';
  return err instanceof Error ? err.message : String(err);
}

/** How often a running service looks at a key file when not told (LGSP_KEYS_WATCH_MS). */
const DEFAULT_KEYS_WATCH_MS = 2000;

/** The watch interval: the one given (0: no watch), else LGSP_KEYS_WATCH_MS, else 2 s. */
export function keysWatchInterval(given?: number): number {
  return given ?? (Number(process.env.LGSP_KEYS_WATCH_MS) || DEFAULT_KEYS_WATCH_MS);
}

/** How a key file is opened: its watch interval and what its watcher tells the log. */
export type KeyFileOptions = { watchIntervalMs?: number } & Partial<KeyFileWatch>;

/** What a key file watcher tells the log. */
export interface KeyFileWatch {
  /** The file's role, for the log line: "runner record key file", "public keyset". */
  what: string;
  log?: Logger;
}

/**
 * Calls `reload` whenever `file` changes, checked every `intervalMs`. `reload` throws when the
 * file cannot be used (the caller keeps what it holds) and otherwise returns what it now holds in
 * a few words ("signs with key …"), which is logged.
 */
export function watchKeyFile(file: string, intervalMs: number, reload: () => string | Promise<string>, { what, log }: KeyFileWatch): void {
  const reloaded = (held: string) => log?.info({ file }, `${what} reloaded: ${held}`);
  const refused = (err: unknown) =>
    log?.warn({ file, reason: keyFileProblem(err) }, `${what} changed but cannot be used: the keys loaded before stay in use until it is mended`);
  watchFileChanges(
    file,
    intervalMs,
    () => {
      try {
        const held = reload();
        if (typeof held === 'string') reloaded(held);
        else held.then(reloaded, refused);
      } catch (err) {
        refused(err);
      }
    },
    {
      onMissing: () => log?.warn({ file }, `${what} is missing: the keys loaded before stay in use until it is back, and the service would not start again without it`),
      onBack: () => log?.warn({ file }, `${what} is back`),
    },
  );
}
