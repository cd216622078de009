// Which runners the console asks. Each runner replica runs its own copy of every connector (its
// own state, statistics, restart), so the console must reach every one, not whichever replica a
// load-balanced Service picks. A fixed list (LGSP_RUNNER_URL=http://runner-1:8080,http://runner-2:8080)
// suits fixed replicas; where replicas come and go (a Deployment with an autoscaler) an entry
// `dns+http://<name>:<port>` stands for every address the name resolves to when the console
// asks — a Kubernetes headless Service resolves to each ready pod. Resolved at each request
// (operator actions are rare; getaddrinfo follows the cluster's DNS TTLs), so a new replica is
// asked from the moment it is ready and a gone one no longer is.
import { lookup as dnsLookup } from 'node:dns/promises';

/** The prefix that makes a runner URL stand for every address its host resolves to. */
export const DNS_DISCOVERY_PREFIX = 'dns+';

export type AddressLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const lookupAll: AddressLookup = (hostname) => dnsLookup(hostname, { all: true });

/**
 * The runner URLs to ask now: fixed entries as they are, each `dns+` entry as one URL per address
 * its host resolves to (IPv6 in brackets), repeats dropped. A name that does not resolve stays as
 * its plain URL, so asking it fails with the resolver's reason, shown like any runner that does
 * not answer.
 */
export async function resolveRunnerUrls(urls: readonly string[], lookup: AddressLookup = lookupAll): Promise<string[]> {
  const resolved = await Promise.all(
    urls.map(async (entry) => {
      if (!entry.startsWith(DNS_DISCOVERY_PREFIX)) return [entry];
      const url = new URL(entry.slice(DNS_DISCOVERY_PREFIX.length));
      // URL keeps IPv6 literals in brackets; a name is what the resolver takes.
      if (url.hostname.startsWith('[')) return [url.href.replace(/\/$/, '')];
      let addresses: { address: string; family: number }[];
      try {
        addresses = await lookup(url.hostname);
      } catch {
        return [url.href.replace(/\/$/, '')];
      }
      if (addresses.length === 0) return [url.href.replace(/\/$/, '')];
      return addresses.map(({ address, family }) => {
        const each = new URL(url.href);
        each.hostname = family === 6 ? `[${address}]` : address;
        return each.href.replace(/\/$/, '');
      });
    }),
  );
  return [...new Set(resolved.flat())];
}
