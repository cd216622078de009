// The local broker and the local PostgreSQL make their own CA and server certificates at first
// start with the system's openssl; one runner for both, whose failure names the step.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs `openssl <args>` in `cwd`; a failure carries openssl's own message. */
export async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}
