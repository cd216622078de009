// Which peers may speak for the client. Behind an ingress or load balancer every request comes
// from the proxy's address, so per-address limits (token endpoint, console logins) would count
// all agencies as one client and lock them out together. The proxies named in trustedProxies
// (LGSP_TRUSTED_PROXIES) are believed about X-Forwarded-For (req.ip becomes the client they
// name) and X-Forwarded-Proto (a console behind a TLS-terminating proxy sets Secure cookies);
// any other peer is taken as the client itself and its forwarded headers are ignored, so a
// client cannot pick its own address by sending them.
import { isIP } from 'node:net';

/** An IPv4/IPv6 address, or such an address with a prefix length (CIDR). */
export function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Fastify's `trustProxy` for the configured proxies: false (believe no one) when there are none. */
export function trustProxyOption(trustedProxies: readonly string[]): false | string[] {
  return trustedProxies.length > 0 ? [...trustedProxies] : false;
}
