// Finds free loopback ports for servers whose address must be known before they start (the
// issuer URL, registry endpoints, broker and database listeners).
//
// Why not simply bind port 0: the kernel hands out port-0 binds AND the local ports of outgoing
// connections from the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range). A port found
// there and released is soon reused by some client's connect() — with hundreds of Kafka and
// PostgreSQL connections open in parallel test processes, the server that then binds it fails
// with EADDRINUSE (seen in CI). Ports just below the ephemeral range are never handed out by the
// kernel, so only another caller of this module picking the same random port can collide.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const RANGE_WIDTH = 12_000;
const ATTEMPTS = 50;

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    /* not Linux: the IANA ephemeral range starts at 49152 */
  }
  return 49_152;
}

/** The range picked from: the RANGE_WIDTH ports below the ephemeral range (never under 1025). */
export function pickRange(): { low: number; high: number } {
  const high = ephemeralRangeStart() - 1;
  return { low: Math.max(1025, high - RANGE_WIDTH + 1), high };
}

function listenOn(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err));
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(true);
    });
  });
}

async function holdFreePort(taken: Set<number>): Promise<Server> {
  const { low, high } = pickRange();
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (taken.has(port)) continue;
    const server = createServer();
    if (await listenOn(server, port)) return server;
  }
  // A crowded range: fall back to the kernel's choice rather than fail.
  const server = createServer();
  await listenOn(server, 0);
  return server;
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** n distinct free ports on 127.0.0.1 (all held at once, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  const taken = new Set<number>();
  try {
    for (let i = 0; i < n; i++) {
      const server = await holdFreePort(taken);
      servers.push(server);
      taken.add(portOf(server));
    }
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/** Whether nothing listens on 127.0.0.1:`port` now (a fixed port, checked before a server is started on it). */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  if (!(await listenOn(server, port))) return false;
  await new Promise<void>((r) => server.close(() => r()));
  return true;
}

/**
 * `preferred` when it is free, else a free port: a server whose address people keep (the
 * operator console, bookmarked, with its language choice stored per origin) gets the same one
 * at the next start when nothing else took it meanwhile.
 */
export async function preferredPort(preferred: number | undefined): Promise<number> {
  if (preferred !== undefined && Number.isInteger(preferred) && preferred > 1024 && preferred < 65_536) {
    const server = createServer();
    if (await listenOn(server, preferred)) {
      await new Promise<void>((r) => server.close(() => r()));
      return preferred;
    }
  }
  return freePort();
}
