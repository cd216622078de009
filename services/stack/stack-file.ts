// .lgsp/dev/stack.json: what `npm start` tells tools and people about the stack it runs (URLs,
// brokers, the database), read by `jq -r .console …`, `lgsp audit verify` and the guides' curl
// lines. It used to be written once everything had started and then left as it was: for the
// minute or two a start takes, and after a stop, it named the previous run's URLs (ports
// another process may have by now). Now it says which state the stack is in: `starting` and
// `stopped` carry no address (a tool reading one gets null, not a stale URL), `running` all of
// them. The console's port alone is kept across runs, so the next start can offer the same
// address (operators' bookmarks and the language their browser stored for it).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type StackState = 'starting' | 'running' | 'stopped';

export function stackFilePath(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

function read(dataDir: string): Record<string, unknown> {
  try {
    const value = JSON.parse(readFileSync(stackFilePath(dataDir), 'utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The console port of the last run on this data dir (a running stack's URL, or the port a starting or stopped one keeps). */
export function previousConsolePort(dataDir: string): number | undefined {
  const file = read(dataDir);
  if (typeof file.consolePort === 'number' && Number.isInteger(file.consolePort)) return file.consolePort;
  try {
    return typeof file.console === 'string' ? Number(new URL(file.console).port) || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the file whole (written aside, then renamed: a reader never sees half of it). */
function write(dataDir: string, content: Record<string, unknown>): void {
  const path = stackFilePath(dataDir);
  writeFileSync(`${path}.tmp`, JSON.stringify(content, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** Whether another live process wrote the file as its running or starting stack (a second npm start on one data dir). */
function ownedByAnother(file: Record<string, unknown>): boolean {
  if (typeof file.pid !== 'number' || file.pid === process.pid || file.state === 'stopped') return false;
  try {
    process.kill(file.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pid of the live process that runs (or is starting) a stack on this data dir, if another
 * does: a second start there must not begin, since stopping its own broker and PostgreSQL after
 * they fail on the running ones' locks takes those down too.
 */
export function stackRunningElsewhere(dataDir: string): { pid: number; state: string } | null {
  const file = read(dataDir);
  return ownedByAnother(file) ? { pid: file.pid as number, state: String(file.state ?? 'running') } : null;
}

/**
 * A start has begun: no URLs until every service answers. A stack another live process runs on
 * this data dir keeps its file (`lgsp start` refuses to begin there: stackRunningElsewhere).
 */
export function markStackStarting(dataDir: string, consolePort: number | undefined): void {
  if (ownedByAnother(read(dataDir))) return;
  write(dataDir, { state: 'starting' satisfies StackState, pid: process.pid, since: new Date().toISOString(), ...(consolePort ? { consolePort } : {}) });
}

/** Everything runs: the stack's addresses. */
export function writeRunningStack(dataDir: string, stack: Record<string, unknown>): void {
  write(dataDir, { state: 'running' satisfies StackState, pid: process.pid, since: new Date().toISOString(), ...stack });
}

/** The stack stopped (or its start failed): its addresses are gone, the console port is kept for the next start. */
export function markStackStopped(dataDir: string): void {
  if (read(dataDir).pid !== process.pid) return; // not this process's stack (or already marked)
  const consolePort = previousConsolePort(dataDir);
  write(dataDir, { state: 'stopped' satisfies StackState, since: new Date().toISOString(), ...(consolePort ? { consolePort } : {}) });
}
