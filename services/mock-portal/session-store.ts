// Portal sessions: username/password buys a random session token that expires. Sessions live in
// memory, so a portal restart ends every session, as it would for clients of a real one.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface PortalAccount {
  username: string;
  password: string;
}

interface Session {
  username: string;
  createdAt: number;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly accounts = new Map<string, Buffer>();
  logins = 0;

  /** ttlSeconds is read on every check, so shortening it (a fault knob) ends older sessions too. */
  constructor(accounts: PortalAccount[], private readonly ttlSeconds: () => number) {
    for (const a of accounts) this.accounts.set(a.username, digest(a.password));
  }

  login(username: unknown, password: unknown): string | null {
    if (typeof username !== 'string' || typeof password !== 'string') return null;
    const expected = this.accounts.get(username);
    // Compare digests in constant time; an unknown user costs the same as a wrong password.
    const ok = timingSafeEqual(expected ?? digest('\u0000unknown'), digest(password)) && expected !== undefined;
    if (!ok) return null;
    this.prune();
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, { username, createdAt: Date.now() });
    this.logins++;
    return token;
  }

  isValid(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const session = this.sessions.get(token);
    if (!session) return false;
    if (Date.now() - session.createdAt > this.ttlSeconds() * 1000) {
      this.sessions.delete(token);
      return false;
    }
    return true;
  }

  expireAll(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }

  get active(): number {
    this.prune();
    return this.sessions.size;
  }

  private prune(): void {
    const limit = Date.now() - this.ttlSeconds() * 1000;
    for (const [token, s] of this.sessions) if (s.createdAt < limit) this.sessions.delete(token);
  }
}
