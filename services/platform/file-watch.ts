// Key files are replaced by rename-into-place (rotateKeys, a Kubernetes Secret update): polling
// the modification time sees that on every filesystem, unlike fs.watch events, which miss
// renames on some. One loop for every key file a service reads.
import { statSync } from 'node:fs';

/** Told when the file is found missing (once), and when it is there again. */
export interface MissingFileHooks {
  onMissing?(): void;
  onBack?(): void;
}

/**
 * Calls `onChange` whenever the file's modification time changes, checked every `intervalMs`.
 * A missing file (being replaced, or deleted) is skipped: the caller keeps what it loaded;
 * `hooks.onMissing` is called when it is first found missing and `hooks.onBack` when it is there
 * again (before `onChange`, if it changed meanwhile). The timer never keeps the process alive.
 * Returns the check itself, for a caller that must not wait for the next turn of the timer.
 */
export function watchFileChanges(file: string, intervalMs: number, onChange: () => void, hooks: MissingFileHooks = {}): () => void {
  let seen = statSync(file).mtimeMs;
  let missing = false;
  const check = () => {
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      if (!missing) {
        missing = true;
        hooks.onMissing?.();
      }
      return;
    }
    if (missing) {
      missing = false;
      hooks.onBack?.();
    }
    if (mtime === seen) return;
    seen = mtime;
    onChange();
  };
  setInterval(check, intervalMs).unref();
  return check;
}
