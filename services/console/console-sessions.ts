// Console sessions held server-side. The browser's cookie carries only a random session id:
// useless as a Bearer token anywhere else (the platform access token it stands for never
// leaves the console), ended at logout or when the token it holds expires, and every live
// stream opened with it is closed when it ends.
import { randomBytes } from 'node:crypto';
import type { Caller } from '../platform/access-token.js';

export interface ConsoleSession {
  id: string;
  caller: Caller;
  /** The operator's platform access token, forwarded to the audit service and the runner. */
  token: string;
  expiresAt: number;
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly onEnded = new Map<string, Set<() => void>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    // Expired sessions are ended on a sweep too, so their live streams close on time.
    this.timer = setInterval(() => {
      for (const s of this.sessions.values()) if (s.expiresAt <= this.now()) this.end(s.id);
    }, 1000);
    this.timer.unref();
  }

  create(caller: Caller, token: string, ttlSeconds: number): ConsoleSession {
    const session = { id: randomBytes(32).toString('base64url'), caller, token, expiresAt: this.now() + ttlSeconds * 1000 };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string): ConsoleSession | null {
    const session = this.sessions.get(id);
    if (!session) return null;
    if (session.expiresAt <= this.now()) {
      this.end(id);
      return null;
    }
    return session;
  }

  end(id: string): void {
    this.sessions.delete(id);
    const listeners = this.onEnded.get(id);
    this.onEnded.delete(id);
    for (const fn of listeners ?? []) fn();
  }

  /** Calls `fn` when the session ends; returns a function that stops listening. */
  onEnd(id: string, fn: () => void): () => void {
    let set = this.onEnded.get(id);
    if (!set) this.onEnded.set(id, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  close(): void {
    clearInterval(this.timer);
    for (const id of [...this.sessions.keys()]) this.end(id);
  }
}
