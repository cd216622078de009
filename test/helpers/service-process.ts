// A bus service started as a process of its own (dist/services/<service>/main.js), for tests that
// freeze it, kill it or read its output as a log collector would. Resolves with the URL it says
// it listens on; rejects with the end of its output if it exits first. A teardown kills it, also
// when it never came to listen.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Everything it wrote so far, standard output and error. */
  output(): string;
}

export function startServiceProcess(t: Test, service: string, env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'services', service, 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  return new Promise<ServiceProcess>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve({ child, url: m[1], output: () => output });
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code, signal) => reject(new Error(`${service} exited (${code ?? signal}) before listening:\n${output.slice(-2000)}`)));
  });
}
