// The recipient claims of every delivery signature's protected header: a push (signed-delivery.ts,
// the envelope's JWS or the detached LGSP-Signature over an edXML body) and a pulled inbox item
// (routes/inbox.ts) alike. Receivers check them (README, *How messages are signed*; the QLVB
// vendor guide §4).
import type { Destination } from './envelope.js';

/**
 * `aud` is the recipient member's code, `svc` the service code the message is for, `iat` the
 * signing time. `aud` alone let a body signed for one system of a member be replayed to another
 * of its systems: an edXML body does not name the service (the envelope of a JSON delivery does).
 */
export function deliveryClaims(to: Destination): { iat: number; aud: string; svc: string } {
  return { iat: Math.floor(Date.now() / 1000), aud: to.member, svc: to.service };
}
