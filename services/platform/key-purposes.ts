// Which key signs what, and which service holds it (DESIGN §5: a key per purpose and per
// producing service, private keys only where they sign). A stolen runner key must not mint
// access tokens or re-sign the audit chain, and a token key must not pass for a bus record, so
// every verifier asks for keys of one purpose (and, for records, of the services allowed to
// write that topic) instead of "any platform key". One purpose is not a signature:
// `payload-encryption` is an ECDH key pair of a *receiving* side (payload-jwe.ts) — its public
// half seals payloads for that service, its private halves (current and earlier ones) open them.
export const KEY_PURPOSES = ['token', 'record', 'delivery', 'checkpoint', 'payload-encryption'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export const KEY_SERVICES = ['gateway', 'runner', 'console', 'audit'] as const;
export type KeyService = (typeof KEY_SERVICES)[number];

/**
 * The private keys each service holds. The gateway issues tokens, writes message records and
 * signs inbox items a system pulls; the runner writes events, replies, retries and dead letters
 * and signs deliveries; the console writes its operators' audited actions; the audit service
 * signs checkpoints and nothing else. The two services that hand payloads to their recipients
 * decrypt them: the runner (connectors) and the gateway (inbox pulls, replies).
 */
export const KEY_HOLDERS: Readonly<Record<KeyService, readonly KeyPurpose[]>> = {
  gateway: ['token', 'record', 'delivery', 'payload-encryption'],
  runner: ['record', 'delivery', 'payload-encryption'],
  console: ['record'],
  audit: ['checkpoint'],
};

/** JWK members (RFC 7517 §4 allows others) that name a published key's purpose and owner. */
export const PURPOSE_MEMBER = 'lgsp_purpose';
export const SERVICE_MEMBER = 'lgsp_service';
/** Seconds since the epoch at which a newer key of the same purpose and service took over. */
export const SUPERSEDED_MEMBER = 'lgsp_superseded_at';

export function isKeyPurpose(value: unknown): value is KeyPurpose {
  return (KEY_PURPOSES as readonly unknown[]).includes(value);
}

export function isKeyService(value: unknown): value is KeyService {
  return (KEY_SERVICES as readonly unknown[]).includes(value);
}

/** Purposes whose keys decrypt rather than sign: earlier private keys must stay readable. */
export function isEncryptionPurpose(purpose: KeyPurpose): boolean {
  return purpose === 'payload-encryption';
}

export function holds(service: KeyService, purpose: KeyPurpose): boolean {
  return KEY_HOLDERS[service].includes(purpose);
}

/** A JWK as the public keyset publishes it. */
export type PublishedJwk = import('jose').JWK & {
  [PURPOSE_MEMBER]?: KeyPurpose;
  [SERVICE_MEMBER]?: KeyService;
  [SUPERSEDED_MEMBER]?: number;
};
