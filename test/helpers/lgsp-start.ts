// Runs `lgsp start` (the built CLI) as a test of a refusal would: with the given environment,
// waiting at most `limitMs` for it to exit by itself; one still running then is stopped with
// SIGINT (nothing it started may outlive the test) and reported as 'running'.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';

const CLI = join(PROJECT_ROOT, 'dist', 'services', 'cli', 'lgsp.js');

export async function runLgspStart(env: NodeJS.ProcessEnv, limitMs = 40_000): Promise<{ code: number | null | 'running'; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'running'>((r) => (timer = setTimeout(() => r('running'), limitMs)))]);
  clearTimeout(timer);
  if (code === 'running') {
    child.kill('SIGINT');
    await exited;
  }
  return { code, stdout, stderr };
}
