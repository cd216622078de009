// A small client for agency systems written in TypeScript (and for the simulators, tests and
// benchmark): private_key_jwt token requests with cached tokens, submit and status calls.
import { SignJWT, importJWK, type JWK } from 'jose';
import { v4 as uuidv4 } from 'uuid';
import { JWT_BEARER_ASSERTION } from './access-token.js';
import type { Recipient } from './submission-hooks.js';
import type { Role } from './registry.js';

/**
 * A parsed JSON body from the bus or an agency system: callers read the fields they expect
 * (the one deliberate `any`; the schemas, not this client, are where the shapes are checked).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

/** A development client file, .lgsp/dev/clients/<clientId>.json (written by `npm start`). */
export interface DevClientFile {
  clientId: string;
  member: string;
  kid: string;
  privateJwk: JWK;
  tokenUrl: string;
  /** The system's roles in the registry (agency, operator, observer), as its tokens carry them. */
  roles: Role[];
  /** Only for systems that sign in with a secret (operator, observer, seeds' legacy systems). */
  clientSecret?: string;
}

export interface ClientCredentials {
  clientId: string;
  privateJwk: JWK;
  kid?: string;
}

export async function createClientAssertion(creds: ClientCredentials, audience: string, lifetimeSeconds = 60): Promise<string> {
  const key = await importJWK(creds.privateJwk, (creds.privateJwk.alg as string) ?? 'ES256');
  return new SignJWT({})
    .setProtectedHeader({ alg: (creds.privateJwk.alg as string) ?? 'ES256', kid: creds.kid ?? creds.privateJwk.kid })
    .setIssuer(creds.clientId)
    .setSubject(creds.clientId)
    .setAudience(audience)
    .setJti(uuidv4())
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
    .sign(key);
}

export class BusClient {
  private token: { value: string; expiresAt: number } | null = null;
  /** The token request in flight: callers arriving meanwhile share it (one request, not one each). */
  private pendingToken: Promise<string> | null = null;
  /** Without a trailing slash: `${baseUrl}/v1/...` is then one slash whatever the caller wrote. */
  readonly baseUrl: string;
  private readonly audience: string;

  /**
   * `audience`: what client assertions are addressed to — the bus's issuer. Defaults to
   * `baseUrl`; behind a load balancer or with several gateways, every gateway shares the one
   * issuer, so a client talking to a particular gateway passes the issuer here.
   */
  constructor(
    baseUrl: string,
    private readonly creds: ClientCredentials,
    audience?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.audience = audience ?? this.baseUrl;
  }

  async accessToken(): Promise<string> {
    if (this.hasValidToken()) return this.token!.value;
    this.pendingToken ??= this.fetchToken().finally(() => {
      this.pendingToken = null;
    });
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    const response = await fetch(`${this.baseUrl}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_ASSERTION,
        client_assertion: await createClientAssertion(this.creds, this.audience),
      }),
    });
    const body = (await response.json()) as { access_token?: string; expires_in?: number; error_description?: string };
    if (!response.ok || !body.access_token) throw new Error(`token request failed: ${response.status} ${body.error_description ?? ''}`);
    this.token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
    return body.access_token;
  }

  /**
   * One call with the cached token. A 401 to a token that was cached (not fetched for this call)
   * drops it and the call is made once more with a new one: the bus refuses a token whose
   * registry entry changed since it was issued (a system moved to another member, a key or
   * secret replaced), and a long-running client would otherwise be refused until the token
   * expired. A 401 is answered before anything is done, so the second call is safe to make.
   */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: JsonBody }> {
    const cached = this.hasValidToken();
    const token = await this.accessToken();
    const answer = await this.call(method, path, token, body, headers);
    if (answer.status !== 401 || !cached) return answer;
    if (this.token?.value === token) this.token = null;
    let fresh: string;
    try {
      fresh = await this.accessToken();
    } catch {
      // No new token either (the client disabled or removed): the bus's first answer says why.
      return answer;
    }
    return this.call(method, path, fresh, body, headers);
  }

  private hasValidToken(): boolean {
    return this.token !== null && this.token.expiresAt - 30_000 > Date.now();
  }

  private async call(method: string, path: string, token: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; headers: Headers; body: JsonBody }> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep text */
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  send(submission: { type: string; to: Recipient | Recipient[]; correlationId?: string; payload: unknown }, idempotencyKey?: string) {
    return this.request('POST', '/v1/messages', submission, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  status(id: string) {
    return this.request('GET', `/v1/messages/${id}`);
  }
}
