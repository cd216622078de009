// OAuth2 client authentication for the token endpoint: private_key_jwt (RFC 7523) and, for
// legacy systems, client_secret_basic. Failures are OAuth2 errors (RFC 6749 §5.2), not problems.
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, errors, exportJWK, jwtVerify, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { Registry, SystemClient } from '../platform/registry.js';
import { SecretCheckBusy, SecretVerifier } from '../platform/secret-hash.js';
import type { Database } from '../platform/database.js';
import { JWT_BEARER_ASSERTION } from '../platform/access-token.js';
import { findCaughtUp, type ClientStanding } from '../platform/live-registry.js';
import { textProblem } from '../platform/text-guard.js';
import { entryFingerprint, jwkCredential, secretCredential, type Credential } from '../platform/token-binding.js';

/** Asymmetric algorithms only: never `none`, never HMAC with a public key. */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
/**
 * How fresh an assertion must be: issued (`iat`) at most this long ago, or, without `iat`,
 * expiring within this long from now.
 */
const MAX_ASSERTION_AGE_SECONDS = 300;
/**
 * How long after its `iat` an assertion may expire. Authlib (Python) and other standard clients
 * sign private_key_jwt assertions with exp = iat + 3600 by default; freshness is judged on `iat`
 * (above), and the jti stays claimed until `exp`, so a longer `exp` opens no replay.
 */
const MAX_ASSERTION_LIFETIME_SECONDS = 3600;
const CLOCK_SKEW_SECONDS = 30;
/** Longest assertion id kept for replay detection (ids are UUIDs or similar in practice). */
const MAX_JTI_LENGTH = 256;

/**
 * The `error` codes the token endpoint answers with (RFC 6749 §5.2), by the HTTP status each
 * comes with: the only ones it produces, and what its OpenAPI document lists (routes/token.ts).
 * No `invalid_grant`: client credentials carry no grant to be invalid (§4.4), and a refused
 * client is `invalid_client`.
 */
export const TOKEN_ERRORS = {
  400: ['invalid_request', 'unsupported_grant_type', 'invalid_scope'],
  401: ['invalid_client'],
  503: ['temporarily_unavailable'],
} as const;

export type TokenErrorCode = (typeof TOKEN_ERRORS)[keyof typeof TOKEN_ERRORS][number];

/** JWS ECDSA signature lengths (RFC 7518 §3.4: r‖s, each the size of the curve's order). */
const JOSE_ECDSA_SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };

/**
 * The library's words for an expired assertion or a wrong audience ('"exp" claim timestamp check
 * failed', 'unexpected "aud" claim value') said what failed, not what to send: the expiry with
 * how long ago it was, and the audiences the gateway takes. Null for any other failure.
 */
function assertionClaimRefusal(err: unknown, claims: JWTPayload, audiences: readonly string[]): string | null {
  const { code, claim } = err as { code?: unknown; claim?: unknown };
  if (code === 'ERR_JWT_EXPIRED' && typeof claims.exp === 'number') {
    const ago = Math.max(0, Math.round(Date.now() / 1000 - claims.exp));
    return `client_assertion expired at ${new Date(claims.exp * 1000).toISOString()} (${ago} s ago, beyond the ${CLOCK_SKEW_SECONDS} s allowed for clock skew): sign a new one for every token request, and check the clock of the signing system`;
  }
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'aud') {
    const given = claims.aud === undefined ? 'missing' : JSON.stringify(claims.aud).slice(0, 200);
    return `client_assertion aud must be the gateway's issuer identifier or its token endpoint URL (one of ${audiences.join(', ')}); it is ${given}`;
  }
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf' && typeof claims.nbf === 'number') {
    return `client_assertion is not valid before ${new Date(claims.nbf * 1000).toISOString()} (nbf, more than ${CLOCK_SKEW_SECONDS} s ahead of the gateway's clock): check the clock of the signing system`;
  }
  return null;
}

/**
 * For an ECDSA assertion whose signature did not verify and is DER-encoded (an ASN.1 SEQUENCE, as
 * java.security.Signature's SHA256withECDSA and OpenSSL make it) rather than JWS's r‖s: says so,
 * since "signature verification failed" alone sends the vendor to its key registration. Only on
 * that refusal; it tells nothing about the client or its keys, only the signature's shape.
 */
function derEncodedEcdsaHint(err: unknown, assertion: string): string {
  if ((err as { code?: unknown }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return '';
  const [header, , signature] = assertion.split('.');
  let alg: unknown;
  try {
    alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
  } catch {
    return '';
  }
  const expected = typeof alg === 'string' ? JOSE_ECDSA_SIGNATURE_BYTES[alg] : undefined;
  const bytes = Buffer.from(signature ?? '', 'base64url');
  // A DER ECDSA signature: SEQUENCE tag, then its length (one byte, or 0x81 and one byte for P-521).
  const der = bytes[0] === 0x30 && (bytes[1] === bytes.length - 2 || (bytes[1] === 0x81 && bytes[2] === bytes.length - 3));
  if (expected === undefined || bytes.length === expected || !der) return '';
  return `: the ${alg as string} signature is ${bytes.length} bytes, DER-encoded (an ASN.1 SEQUENCE, as java.security.Signature's SHA…withECDSA makes it); a JWS carries the ${expected}-byte r‖s concatenation (RFC 7518 §3.4): sign with a JOSE library (nimbus-jose-jwt's ECDSASigner) or with Java's SHA…withECDSAinP1363Format`;
}

export class OAuthError extends Error {
  readonly status: keyof typeof TOKEN_ERRORS;

  constructor(
    readonly error: TokenErrorCode,
    readonly description: string,
  ) {
    super(description);
    // The status TOKEN_ERRORS lists the code under: one list says both.
    this.status = Number(Object.entries(TOKEN_ERRORS).find(([, codes]) => (codes as readonly string[]).includes(error))![0]) as keyof typeof TOKEN_ERRORS;
  }
}

/**
 * Single-use client assertions across every gateway: a (client, jti) row in PostgreSQL, kept
 * until the assertion it came in has expired. The primary key decides between two gateways
 * that see the same assertion at once: exactly one insert wins.
 */
export class AssertionReplayCache {
  constructor(private readonly db: Pick<Database, 'query'>) {}

  /** Returns false when this (client, jti) was already used. */
  async claim(clientId: string, jti: string, expSeconds: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO gateway_assertion_jti AS j (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
       ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE j.expires_at < now()`,
      [clientId, jti, expSeconds + CLOCK_SKEW_SECONDS],
    );
    // Now and then, drop what has expired (cheap: an index on expires_at).
    if (Math.random() < 0.01) void this.db.query('DELETE FROM gateway_assertion_jti WHERE expires_at < now()').catch(() => undefined);
    return rowCount === 1;
  }
}

export interface TokenRequestBody {
  grant_type?: string;
  client_id?: string;
  client_assertion_type?: string;
  client_assertion?: string;
  /** client_secret_post (RFC 6749 §2.3.1): not taken, only read to say so. */
  client_secret?: string;
  scope?: string;
}

/**
 * The key an assertion claiming an unknown client (or one with no key registered) is checked
 * against: a public key whose private half was never kept, so nothing verifies with it. The
 * assertion is refused by the same checks, in the same words and after the same work as one
 * signed with a wrong key for a registered client: the answer does not tell which ids exist.
 */
const DECOY_JWKS = createLocalJWKSet({ keys: [{ ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK), alg: 'ES256', use: 'sig' }] });

/** What a client assertion's `aud` may name: the issuer (with or without a trailing slash) or the token endpoint. */
export function assertionAudiences(issuer: string): string[] {
  const bare = issuer.replace(/\/+$/, '');
  // `${issuer}/v1/token` as written: the token_endpoint the OAuth metadata advertises.
  return [...new Set([issuer, bare, `${bare}/`, `${bare}/v1/token`, `${issuer}/v1/token`])];
}

/** What a refusal's audit entry names instead of a claimed id that is not in the registry. */
export const UNREGISTERED_CLIENT = '(not registered)';

/** A client that proved who it is, and the fingerprint of its entry and credential its token carries (token-binding.ts). */
export interface AuthenticatedClient {
  client: SystemClient;
  entry: string;
}

export class ClientAuthenticator {
  constructor(
    /** The registry in use (live-registry.ts): each request reads the client's keys and secret hash from it, nothing is cached. */
    private readonly registry: () => Registry,
    private readonly acceptedAudiences: string[],
    private readonly replayCache: AssertionReplayCache,
    /** The registry's current standing of each client: a disabled or removed one gets no token. */
    private readonly clients?: ClientStanding,
    /** The registry after looking at its file now (LiveRegistry.latest), for a client the registry in use does not know. */
    private readonly latest?: () => Registry,
    private readonly secrets = new SecretVerifier(),
  ) {}

  /**
   * A client's entry; one the registry in use does not know is looked up again in the file as it is
   * now: each service reads the file on its own timer, and a system just added gets its token at
   * once, on every gateway.
   */
  private systemOf(clientId: string): SystemClient | undefined {
    return findCaughtUp(this.registry, this.latest, (registry) => registry.system(clientId));
  }

  async authenticate(body: TokenRequestBody, authorization: string | undefined): Promise<AuthenticatedClient> {
    const hasAssertion = body.client_assertion !== undefined || body.client_assertion_type !== undefined;
    const hasBasic = authorization !== undefined && /^Basic\s/i.test(authorization);
    if (hasAssertion && hasBasic) throw new OAuthError('invalid_request', 'Use exactly one client authentication method');
    // A secret in the form is client_secret_post, which the metadata does not offer: say so,
    // since "authentication is required" reads as if nothing had been sent (Authlib's
    // client_secret_post and many hand-written clients send it this way).
    if (!hasAssertion && !hasBasic && body.client_secret !== undefined) {
      throw new OAuthError('invalid_client', 'client_secret_post is not supported: send the client id and secret as HTTP Basic credentials (client_secret_basic, RFC 6749 §2.3.1), or use private_key_jwt');
    }
    if (!hasAssertion && !hasBasic) throw new OAuthError('invalid_client', 'Client authentication is required (private_key_jwt or client_secret_basic)');
    const { client: checked, credential } = hasAssertion ? await this.privateKeyJwt(body) : await this.clientSecretBasic(authorization!, body.client_id);
    // Keys and secret hashes are read from the registry in use for every request (nothing is
    // cached), and the registry may have been replaced while they were checked (a scrypt, a
    // database round trip): a key or secret replaced meanwhile does not get a token, and the
    // token is made from the client's entry as it is now (its roles, its member).
    const client = this.registry().system(checked.clientId) ?? checked;
    if (client !== checked && !sameCredential(client, checked, hasAssertion ? 'jwks' : 'secretHash')) {
      throw new OAuthError('invalid_client', `The client's ${hasAssertion ? 'keys' : 'secret'} changed in the registry while this request was checked; authenticate again`);
    }
    // Checked once the client proved who it is: nobody learns a client's standing without its credentials.
    const refusal = this.clients?.refusal(client.clientId);
    if (refusal) throw new OAuthError('invalid_client', refusal);
    return { client, entry: entryFingerprint(client.member, credential) };
  }

  /**
   * The claimed client id as a refusal's audit entry may name it: a registered id as it is, any
   * other as UNREGISTERED_CLIENT. The audit chain is permanent and read by observers, and what
   * arrives in the id field of a refused request is not always an id: a secret pasted into the
   * wrong field, id and secret swapped, a person's name. A registered id is none of those.
   */
  auditableClientId(claimed: string | null): string | null {
    if (claimed === null) return null;
    return this.registry().system(claimed) ? claimed : UNREGISTERED_CLIENT;
  }

  private async privateKeyJwt(body: TokenRequestBody): Promise<{ client: SystemClient; credential: Credential }> {
    if (body.client_assertion_type !== JWT_BEARER_ASSERTION) {
      throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    }
    if (!body.client_assertion) throw new OAuthError('invalid_request', 'client_assertion is missing');
    let unverified;
    try {
      unverified = decodeJwt(body.client_assertion);
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT');
    }
    const clientId = unverified.iss;
    if (!clientId || unverified.sub !== clientId) throw new OAuthError('invalid_client', 'client_assertion must have iss = sub = client_id');
    if (body.client_id !== undefined && body.client_id !== clientId) throw new OAuthError('invalid_client', 'client_id does not match the assertion');
    const client = this.systemOf(clientId);
    let payload;
    let credential: Credential;
    try {
      let key;
      ({ payload, key } = await verifyWithKeySet(body.client_assertion, client?.auth.jwks ? createLocalJWKSet(client.auth.jwks) : DECOY_JWKS, {
        algorithms: ASSERTION_ALGORITHMS,
        issuer: clientId,
        subject: clientId,
        audience: this.acceptedAudiences,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
      // Never reached with the decoy (its private key is gone): kept so no path gives a token without a registered key.
      if (!client?.auth.jwks) throw new Error('signature verification failed');
      // The registered key that verified the assertion: the token is bound to it (removing that key refuses the token).
      credential = jwkCredential(await exportJWK(key));
    } catch (err) {
      throw new OAuthError('invalid_client', assertionClaimRefusal(err, unverified, this.acceptedAudiences) ?? `client_assertion rejected: ${(err as Error).message}${derEncodedEcdsaHint(err, body.client_assertion)}`);
    }
    const now = Date.now() / 1000;
    // The refusals below come, in practice, from a signing system whose clock is off: they say by
    // how much against the gateway's clock (its time in the words, to compare with), the skew
    // allowed, and that the clock is what to check, not only that a claim failed.
    const gatewayTime = new Date(now * 1000).toISOString();
    // jose checks iat only for an age limit: an assertion "issued" later than now comes from a
    // clock that is wrong (or from one made to outlive its freshness).
    if (typeof payload.iat === 'number' && payload.iat > now + CLOCK_SKEW_SECONDS) {
      throw new OAuthError('invalid_client', `client_assertion iat is in the future: ${new Date(payload.iat * 1000).toISOString()}, ${Math.round(payload.iat - now)} s ahead of the gateway's clock (${gatewayTime}), beyond the ${CLOCK_SKEW_SECONDS} s allowed for clock skew: check the clock of the signing system`);
    }
    // Freshness: judged on iat when the assertion has one (no older than five minutes, expiring at
    // most an hour after it, as Authlib signs them), else on exp (within five minutes of now).
    const exp = payload.exp as number;
    if (typeof payload.iat === 'number') {
      const age = now - payload.iat;
      if (age > MAX_ASSERTION_AGE_SECONDS + CLOCK_SKEW_SECONDS) {
        throw new OAuthError('invalid_client', `client_assertion iat is ${Math.floor(age)} s ago: an assertion must be issued within the last ${MAX_ASSERTION_AGE_SECONDS} s, with ${CLOCK_SKEW_SECONDS} s allowed for clock skew (sign a new one for every token request); if this one was signed just now, the clock of the signing system is about ${Math.floor(age)} s behind the gateway's (${gatewayTime}): check it`);
      }
      if (exp - payload.iat > MAX_ASSERTION_LIFETIME_SECONDS) {
        throw new OAuthError('invalid_client', `client_assertion exp is ${Math.floor(exp - payload.iat)} s after its iat: it must expire within ${MAX_ASSERTION_LIFETIME_SECONDS} s of iat`);
      }
    } else if (exp - now > MAX_ASSERTION_AGE_SECONDS + CLOCK_SKEW_SECONDS) {
      throw new OAuthError('invalid_client', `client_assertion exp must be within ${MAX_ASSERTION_AGE_SECONDS} s from now when it has no iat (with an iat: issued within the last ${MAX_ASSERTION_AGE_SECONDS} s, expiring within ${MAX_ASSERTION_LIFETIME_SECONDS} s of it); its exp is ${Math.floor(exp - now)} s from now by the gateway's clock (${gatewayTime}), beyond the ${CLOCK_SKEW_SECONDS} s allowed for clock skew: if it was made to expire sooner, check the clock of the signing system`);
    }
    // The jti is stored (single use across gateways): it must be text PostgreSQL can hold.
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH || textProblem(jti)) {
      throw new OAuthError('invalid_client', `client_assertion jti must be a string of 1 to ${MAX_JTI_LENGTH} characters of well-formed Unicode without U+0000`);
    }
    // Claimed until the assertion's own exp (an hour at most after iat): a replay is refused for
    // as long as the assertion would be accepted.
    if (!(await this.replayCache.claim(clientId, jti, exp))) {
      throw new OAuthError('invalid_client', 'client_assertion was already used (jti replay)');
    }
    return { client, credential };
  }

  private async clientSecretBasic(authorization: string, bodyClientId: string | undefined): Promise<{ client: SystemClient; credential: Credential }> {
    const credentials = basicCredentials(authorization);
    if (!credentials) throw new OAuthError('invalid_client', 'Malformed Basic credentials');
    // A client_id beside the credentials must name the same client: which one would the token be for?
    if (bodyClientId !== undefined && bodyClientId !== credentials.clientId) throw new OAuthError('invalid_client', 'client_id does not match the Basic credentials');
    const client = this.systemOf(credentials.clientId);
    let matches = false;
    try {
      // An unknown id (or a key-only client) costs a scrypt too: refused as slowly as a wrong secret.
      matches = await this.secrets.verifyOrDecoy(credentials.secret, client?.auth.secretHash || undefined);
    } catch (err) {
      if (err instanceof SecretCheckBusy) throw new OAuthError('temporarily_unavailable', 'Too many client secret checks in progress; retry shortly');
      throw err;
    }
    if (!client?.auth.secretHash || !matches) throw new OAuthError('invalid_client', 'Invalid client credentials');
    return { client, credential: secretCredential(client.auth.secretHash) };
  }
}

/**
 * jwtVerify against a client's registered keys, and the key that verified. An assertion without
 * `kid` (RFC 7523 asks for none; Python's and Java's OAuth libraries often send none) matches
 * every registered key of its type, and jose then refuses it ("multiple matching keys found")
 * instead of choosing: a client holding two RSA or two EC keys, as during a key rotation, got no
 * token. Each candidate is tried instead; the first that verifies is the key.
 */
async function verifyWithKeySet(jwt: string, keySet: ReturnType<typeof createLocalJWKSet>, options: JWTVerifyOptions): Promise<{ payload: JWTPayload; key: CryptoKey | Uint8Array }> {
  try {
    return await jwtVerify(jwt, keySet, options);
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const candidate of err) {
      try {
        return { ...(await jwtVerify(jwt, candidate, options)), key: candidate };
      } catch (wrongKey) {
        // Only a signature made with another key sends the search on; a claim that fails
        // (expired, wrong audience) fails with every key and is said as it is.
        if (!(wrongKey instanceof errors.JWSSignatureVerificationFailed)) throw wrongKey;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** Whether two registry entries of one client hold the same key set (private_key_jwt) or secret hash (client_secret_basic). */
function sameCredential(a: SystemClient, b: SystemClient, kind: 'jwks' | 'secretHash'): boolean {
  return JSON.stringify(a.auth[kind] ?? null) === JSON.stringify(b.auth[kind] ?? null);
}

/** RFC 6749 §2.3.1: client id and secret, each form-urlencoded, then base64; null when malformed. */
function basicCredentials(authorization: string): { clientId: string; secret: string } | null {
  const decoded = Buffer.from(authorization.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return null;
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, sep).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(sep + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return null;
  }
}

/**
 * The client a token request claims to be, before (or whether or not) it is authenticated: for
 * counting refusals per client. Never trusted for anything else.
 */
export function claimedClientId(body: TokenRequestBody, authorization: string | undefined): string | null {
  if (authorization && /^Basic\s/i.test(authorization)) return basicCredentials(authorization)?.clientId ?? null;
  if (body.client_assertion) {
    try {
      const iss = decodeJwt(body.client_assertion).iss;
      if (iss) return iss;
    } catch {
      /* not a JWT: fall through */
    }
  }
  return body.client_id ?? null;
}
