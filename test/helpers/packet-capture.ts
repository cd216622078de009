// A loopback packet capture for wire checks (what crosses the wire to PostgreSQL, to Kafka):
// tcpdump on lo with a filter, started once it listens, stopped with the last packets flushed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const tcpdumpMissing = Boolean(spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).error);

/** Starts tcpdump on lo for `filter`; resolves once it listens, with a stop() that flushes the file. */
export async function captureLoopback(file: string, filter: string): Promise<{ stop(): Promise<void> }> {
  const proc: ChildProcess = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/listening on/.test(err)) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${err}`)));
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      // --immediate-mode hands packets over as they come; a short grace lets the last ones land.
      await new Promise((r) => setTimeout(r, 1000));
      proc.kill('SIGINT');
      await exited;
    },
  };
}
