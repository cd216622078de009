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

/**
 * Why a session ended, kept for a while after it ended: a browser whose live stream just closed
 * asks GET /v1/console/session what happened, and its next request is refused with the same
 * reason — a client disabled in the registry stays INVALID_TOKEN with its detail, not a generic
 * "session ended" read as an expired session.
 */
export interface SessionEnd {
  code: 'SESSION_ENDED' | 'INVALID_TOKEN';
  detail: string;
}

/** How long, and for how many sessions, the reason a session ended is remembered. */
const ENDED_MEMORY_MS = 15 * 60_000;
const ENDED_MEMORY_SESSIONS = 1000;

const EXPIRED: SessionEnd = { code: 'SESSION_ENDED', detail: 'Your console session expired; log in again' };
/** A session ended with no reason of its own (or whose reason is forgotten). */
export const ENDED: SessionEnd = { code: 'SESSION_ENDED', detail: 'Your console session has ended; log in again' };

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly onEnded = new Map<string, Set<() => void>>();
  /** Ended sessions' reasons, oldest first (a Map keeps insertion order). */
  private readonly ended = new Map<string, { end: SessionEnd; at: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    // Expired sessions are ended on a sweep too, so their live streams close on time.
    this.timer = setInterval(() => {
      for (const s of this.sessions.values()) if (s.expiresAt <= this.now()) this.end(s.id, EXPIRED);
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
      this.end(id, EXPIRED);
      return null;
    }
    return session;
  }

  /** Ends a session (its live streams close) and remembers why, for endedBecause. */
  end(id: string, why: SessionEnd = ENDED): void {
    if (this.sessions.delete(id)) this.remember(id, why);
    const listeners = this.onEnded.get(id);
    this.onEnded.delete(id);
    for (const fn of listeners ?? []) fn();
  }

  /** Why the session `id` ended, if it ended in the last minutes; null for an id never seen (or long gone). */
  endedBecause(id: string): SessionEnd | null {
    const entry = this.ended.get(id);
    if (!entry) return null;
    if (entry.at + ENDED_MEMORY_MS <= this.now()) {
      this.ended.delete(id);
      return null;
    }
    return entry.end;
  }

  private remember(id: string, end: SessionEnd): void {
    this.ended.set(id, { end, at: this.now() });
    // Oldest first: drop those past their time, and the oldest beyond the bound.
    for (const [oldId, entry] of this.ended) {
      if (this.ended.size <= ENDED_MEMORY_SESSIONS && entry.at + ENDED_MEMORY_MS > this.now()) break;
      this.ended.delete(oldId);
    }
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
    this.ended.clear();
  }
}
