// Key files are replaced by rename-into-place (rotateKeys, a Kubernetes Secret update): polling
// the modification time sees that on every filesystem, unlike fs.watch events, which miss
// renames on some. One loop for every key file a service reads.
import { statSync } from 'node:fs';

/**
 * Calls `onChange` whenever the file's modification time changes, checked every `intervalMs`.
 * A file missing for a moment (being replaced) is skipped: the caller keeps what it loaded. The
 * timer never keeps the process alive.
 */
export function watchFileChanges(file: string, intervalMs: number, onChange: () => void): void {
  let seen = statSync(file).mtimeMs;
  const timer = setInterval(() => {
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      return;
    }
    if (mtime === seen) return;
    seen = mtime;
    onChange();
  }, intervalMs);
  timer.unref();
}
