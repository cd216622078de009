// Freezing a server the test started (SIGSTOP): its connections stay open and nothing answers —
// a server that hangs, as opposed to one that is down and refuses. The returned thaw (SIGCONT)
// may be called more than once; register it as a teardown too, so a failing test never leaves a
// stopped process behind.
export function freeze(pids: number[]): () => void {
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch (err) {
        // Killed meanwhile (a teardown that ran first): nothing left to thaw.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  };
}
