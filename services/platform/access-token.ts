// Platform access tokens (RFC 9068 JWT profile): short-lived, ES256, issued by the gateway's
// token endpoint and verified by every service. Verified tokens are cached until they expire
// so the hot path does not re-run ECDSA verification for every request of a client.
import { SignJWT, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { v4 as uuidv4 } from 'uuid';
import type { SigningKey } from './keystore.js';
import type { Role } from './registry.js';
import type { ClientStanding } from './live-registry.js';
import { ENTRY_CLAIM } from './token-binding.js';

/** RFC 7523 client_assertion_type of private_key_jwt client authentication. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface Caller {
  clientId: string;
  member: string;
  roles: Role[];
  /** The fingerprint of the registry entry the token was issued for (token-binding.ts). */
  entry?: string;
}

export async function issueAccessToken(key: SigningKey, issuer: string, caller: Caller, ttlSeconds: number): Promise<string> {
  return new SignJWT({ client_id: caller.clientId, member: caller.member, roles: caller.roles, ...(caller.entry === undefined ? {} : { [ENTRY_CLAIM]: caller.entry }) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(issuer)
    .setAudience(issuer)
    .setSubject(caller.clientId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .setJti(uuidv4())
    .sign(key.key);
}

/**
 * A token refused because the registry refuses its client (disabled, or no longer listed): a new
 * login or token with the same client is refused as well, so callers must not advise one.
 */
export class ClientRefusedError extends Error {}

/** A token refused because it expired: a new login or token is the remedy. */
export class TokenExpiredError extends Error {}

export class AccessTokenVerifier {
  private readonly cache = new Map<string, { caller: Caller; exp: number }>();

  /**
   * `clients`: the registry's current standing of each client (live-registry.ts), asked on
   * every verification, cached or not: a token of a client disabled or removed since it was
   * issued is refused at once, and so is a token issued for another entry of the client than the
   * one in use (member, key or secret changed since, or removed and added again: token-binding.ts);
   * a role taken from the client since is not the caller's any more (the token's roles are what
   * it was given, the registry's what it holds now). Absent: the signature, issuer and lifetime decide alone.
   */
  constructor(
    private readonly getKey: JWTVerifyGetKey,
    private readonly issuer: string,
    private readonly clients?: ClientStanding,
    private readonly cacheSize = 50_000,
  ) {}

  /** Returns the caller or throws with a reason fit for the client. */
  async verify(token: string): Promise<Caller> {
    const cached = this.cache.get(token);
    const nowSeconds = Date.now() / 1000;
    if (cached && cached.exp > nowSeconds) return this.standing(cached.caller);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        issuer: this.issuer,
        audience: this.issuer,
        algorithms: ['ES256'],
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['exp', 'sub', 'iat'],
      }));
    } catch (err) {
      const reason = `token rejected: ${refusalReason(err)}`;
      throw (err as { code?: string }).code === 'ERR_JWT_EXPIRED' ? new TokenExpiredError(reason) : new Error(reason);
    }
    const caller: Caller = {
      clientId: String(payload.sub),
      member: String(payload.member),
      roles: Array.isArray(payload.roles) ? (payload.roles as Role[]) : [],
      ...(typeof payload[ENTRY_CLAIM] === 'string' ? { entry: payload[ENTRY_CLAIM] } : {}),
    };
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { caller, exp: payload.exp as number });
    return this.standing(caller);
  }

  private standing(caller: Caller): Caller {
    if (!this.clients) return caller;
    // Both in memory, against the registry in use: no I/O on the hot path.
    const clientRefusal = this.clients.refusal(caller.clientId);
    if (clientRefusal) throw new ClientRefusedError(`token rejected: ${clientRefusal}`);
    const refusal = this.clients.entryRefusal(caller.clientId, caller.entry);
    if (refusal) throw new Error(`token rejected: ${refusal}`);
    const roles = this.clients.rolesNow(caller.clientId, caller.roles);
    const member = this.clients.memberOf(caller.clientId) ?? caller.member;
    // The cached caller stays as the token says: a role given back later counts again.
    return roles.length === caller.roles.length && member === caller.member ? caller : { ...caller, member, roles };
  }
}

/**
 * Why jose refused a token, in the caller's terms. An expired token is what an agency system
 * meets every few minutes, and jose says it as `"exp" claim timestamp check failed`: name the
 * time it expired and what to do (tokens last LGSP_TOKEN_TTL_SECONDS; get a new one).
 */
function refusalReason(err: unknown): string {
  const { code, payload } = err as { code?: string; payload?: { exp?: unknown } };
  if (code === 'ERR_JWT_EXPIRED') {
    const at = typeof payload?.exp === 'number' ? ` at ${new Date(payload.exp * 1000).toISOString()}` : '';
    return `the access token expired${at}; get a new one from POST /v1/token (tokens are short-lived: request one before it expires, or again on this 401)`;
  }
  return (err as Error).message;
}
