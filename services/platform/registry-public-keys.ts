// A registry names each system's PUBLIC keys: it is shared with every service and instance,
// copied into ConfigMaps and tickets. A JWK pasted from a key generator's full output carries the
// private part too (`d` of an EC/OKP/RSA key, the RSA factors and CRT values `p`, `q`, `dp`, `dq`,
// `qi`, `oth`) or is a symmetric key (`k`): taking such a file would spread the key that lets
// anyone sign as that system. The registry is refused instead, naming where the private part is,
// never its value (the reason is logged and shown to operators).
import { fieldPath } from './field-path.js';

/** JWK members that hold private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Field paths (`systems[2].auth.jwks.keys[0].d`) of private key material in a registry's systems' keys. */
export function privateKeyFields(data: unknown): string[] {
  const systems = (data as { systems?: unknown } | null)?.systems;
  if (!Array.isArray(systems)) return [];
  const found: string[] = [];
  systems.forEach((system, s) => {
    const keys = (system as { auth?: { jwks?: { keys?: unknown } } } | null)?.auth?.jwks?.keys;
    if (!Array.isArray(keys)) return;
    keys.forEach((key, k) => {
      if (key === null || typeof key !== 'object') return;
      for (const member of PRIVATE_JWK_MEMBERS) {
        if (Object.hasOwn(key, member)) found.push(fieldPath(['systems', s, 'auth', 'jwks', 'keys', k, member]));
      }
    });
  });
  return found;
}
