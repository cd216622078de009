// Runs a real PostgreSQL server on 127.0.0.1 for dev and tests, the way local-kafka.ts runs the
// broker: our own data directory, a free port, our own postmaster pid, and only that pid is ever
// signalled. The server binaries come from the machine (Debian's postgresql package:
// /usr/lib/postgresql/<major>/bin, or LGSP_PG_BIN). PostgreSQL refuses to run as root, so when
// we are root (CI) every server command runs as the `postgres` system user through `runuser`,
// on a data directory owned by that user.
//
// Like the local Kafka it is secured unless asked otherwise: TLS with a certificate made at its
// first start (postgres-security.ts), pg_hba accepting only `hostssl` connections with a
// password (scram-sha-256), and a generated superuser password. `plaintext: true` (the dev flag
// LGSP_POSTGRES_PLAINTEXT=1 in with-kafka and npm start) keeps passwords but drops TLS.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, fchmodSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ownProcess, releaseProcess } from '../local-processes/owned-processes.js';
import { freePort } from '../local-processes/free-port.js';
import { databaseClientConfig } from '../platform/database-connection.js';
import { credentialsDir, ensureServerTls, newLogin, readLogin, writeLogin, type DatabaseLogin, type PostgresTlsFiles } from './postgres-security.js';
import { scramSha256Verifier } from './scram-verifier.js';

export interface LocalPostgresOptions {
  /** Keep the cluster here (reused on the next start). Default: a temp dir removed by stop(). */
  dataDir?: string;
  /**
   * Throwaway test clusters trade durability for speed (fsync=off, synchronous_commit=off).
   * Default: true for a temp dir, false for a caller's dataDir. Never for data you keep.
   */
  throwaway?: boolean;
  /** Progress lines; the server's own log goes to <dataDir>/postgres.log. */
  log?: (line: string) => void;
  /** No TLS (development only: LGSP_POSTGRES_PLAINTEXT=1). Passwords are required either way. */
  plaintext?: boolean;
  /** More server settings (`-c name=value`), e.g. the bench's pg_stat_statements. */
  settings?: Record<string, string>;
}

export interface LocalPostgres {
  /**
   * The superuser's (schema owner's) URL, the value for DATABASE_URL:
   * postgres://lgsp:<password>@127.0.0.1:<port>/lgsp?sslmode=verify-full&sslrootcert=<caFile>.
   * Holds the password: show displayUrl instead.
   */
  url: string;
  /** url without the password, for messages and logs. */
  displayUrl: string;
  /** The server's CA certificate (sslrootcert); undefined for a plaintext server. */
  caFile: string | undefined;
  /** Where the logins' passwords are kept (<dataDir>/security/credentials). */
  credentialsDir: string;
  /** The URL of `database` (default lgsp) on this server for another login. */
  urlFor(login: DatabaseLogin, database?: string): string;
  port: number;
  /** The postmaster's pid while it runs. */
  readonly pid: number | undefined;
  dataDir: string;
  /** Fast shutdown (SIGINT: sessions are disconnected, data flushed); removes a temp data dir. */
  stop(): Promise<void>;
  /** Stops the server but keeps the data and the port, for outage tests. */
  stopServer(): Promise<void>;
  /** Starts it again on the same port and data after stopServer(). */
  startServer(): Promise<void>;
}

const SUPERUSER = 'lgsp';
const DATABASE = 'lgsp';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;
const PORT_ATTEMPTS = 3;
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The newest installed server's bin directory (LGSP_PG_BIN wins). */
export function findPostgresBin(): string {
  const fromEnv = process.env.LGSP_PG_BIN;
  if (fromEnv) {
    if (!existsSync(path.join(fromEnv, 'postgres'))) throw new Error(`LGSP_PG_BIN=${fromEnv} holds no postgres binary`);
    return fromEnv;
  }
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(path.join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error(
      'no PostgreSQL server found: install Debian\'s postgresql package (apt-get install postgresql), ' +
        'set LGSP_PG_BIN to a directory holding initdb and postgres, or point DATABASE_URL at an existing server',
    );
  }
  return path.join(base, majors[0], 'bin');
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs a server binary as a user PostgreSQL accepts. */
function serverCommand(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/**
 * The first directory above `dir` that a user (`uid`, `gid`) may not enter, or null. Checked by
 * mode bits: whether that user could reach a data directory root made for it.
 */
export function unenterableAncestor(dir: string, uid: number, gid: number): string | null {
  const ancestors: string[] = [];
  for (let p = path.dirname(path.resolve(dir)); ; p = path.dirname(p)) {
    ancestors.unshift(p);
    if (p === path.dirname(p)) break;
  }
  for (const p of ancestors) {
    let st;
    try {
      st = statSync(p);
    } catch {
      return null; // not made yet: made by us, for the user
    }
    const search = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & search) === 0) return p;
  }
  return null;
}

/** The postgres system user's uid and gid (PostgreSQL runs as it when we are root). */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but there is no `postgres` system user to run PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * As root, that the postgres user can reach `dataDir`. Owning the data directory is not enough:
 * under a private parent (mktemp -d makes 0700 ones) initdb failed with "could not open …:
 * Permission denied", which said nothing of why.
 */
function assertPostgresCanReach(dataDir: string): void {
  if (!asRoot) return;
  const { uid, gid } = postgresUser();
  const closed = unenterableAncestor(dataDir, uid, gid);
  if (closed) {
    throw new Error(
      `PostgreSQL runs as the postgres system user (it refuses to run as root), and that user cannot enter ${closed} ` +
        `(mode ${(statSync(closed).mode & 0o777).toString(8).padStart(4, '0')}): choose a data directory (LGSP_DATA_DIR) it can reach, or let it through with chmod o+x ${closed}`,
    );
  }
}

/** Makes `dir` (and everything in it) the postgres user's when we run as root. */
function ownDir(dir: string): void {
  if (!asRoot) return;
  const { uid, gid } = postgresUser();
  const walk = (p: string) => {
    chownSync(p, uid, gid);
    if (statSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(path.join(p, entry));
  };
  walk(dir);
}

// SIGQUIT is PostgreSQL's immediate shutdown (children included), sent if this process goes away.
const POSTMASTER_PROCESS = { name: 'local-postgres-watchdog', exitSignal: 'SIGQUIT', watchdogSignal: 'QUIT' } as const;

// ---- the server -------------------------------------------------------------------------------

class LocalPostgresServer implements LocalPostgres {
  port = 0;
  url = '';
  displayUrl = '';
  /** Set once the cluster has the owner's password (a cluster from before passwords gets it at start). */
  owner?: DatabaseLogin;
  private proc?: ChildProcess;
  private exited?: Promise<void>;
  private postmasterPid?: number;
  private stopping?: Promise<void>;

  constructor(
    readonly dataDir: string,
    private readonly bin: string,
    private readonly throwaway: boolean,
    private readonly ownsDataDir: boolean,
    private readonly log: (line: string) => void,
    private readonly tls: PostgresTlsFiles | undefined,
    private readonly extraSettings: Record<string, string> = {},
  ) {}

  get caFile(): string | undefined {
    return this.tls?.caFile;
  }

  get credentialsDir(): string {
    return credentialsDir(this.dataDir);
  }

  private get hbaFile(): string {
    return path.join(this.dataDir, 'pg_hba.conf');
  }

  /**
   * Who may connect how: a password always (scram-sha-256), over TLS only when TLS is on. The
   * one exception is the first start of a cluster made before passwords existed: trust until
   * the owner's password is set, a moment later (setOwnerPassword).
   */
  async writeHba(): Promise<void> {
    const method = this.owner ? 'scram-sha-256' : 'trust';
    const lines = [
      '# Written by services/local-postgres/local-postgres.ts at every start: edits here are lost.',
      `${this.tls ? 'hostssl' : 'host'} all all 127.0.0.1/32 ${method}`,
    ];
    await writeFile(this.hbaFile, lines.join('\n') + '\n', { mode: 0o600 });
    ownDir(this.hbaFile);
  }

  /** The owner's password on a cluster that has none yet, then password-only access. */
  async setOwnerPassword(): Promise<void> {
    const owner = newLogin(SUPERUSER);
    const pg = (await import('pg')).default;
    const client = new pg.Client(databaseClientConfig(this.maintenanceUrl));
    await client.connect();
    try {
      await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${client.escapeLiteral(scramSha256Verifier(owner.password))}`);
      await writeLogin(this.dataDir, 'owner', owner);
      this.owner = owner;
      await this.writeHba();
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end();
    }
    this.setPort(this.port);
  }

  urlFor(login: DatabaseLogin, database = DATABASE): string {
    const u = new URL(`postgres://127.0.0.1:${this.port}/${database}`);
    u.username = login.username;
    u.password = login.password;
    if (this.tls) {
      u.searchParams.set('sslmode', 'verify-full');
      u.searchParams.set('sslrootcert', this.tls.caFile);
    }
    return u.toString();
  }

  get pid(): number | undefined {
    return this.proc ? this.postmasterPid : undefined;
  }

  private get clusterDir(): string {
    return path.join(this.dataDir, 'data');
  }

  private get logFile(): string {
    return path.join(this.dataDir, 'postgres.log');
  }

  async initIfNeeded(): Promise<void> {
    if (existsSync(path.join(this.clusterDir, 'PG_VERSION'))) return;
    this.log(`[local-postgres] initdb in ${this.clusterDir}`);
    // The owner's password from the very first moment: no window where anyone may log in.
    const owner = (await readLogin(this.dataDir, 'owner')) ?? newLogin(SUPERUSER);
    await writeLogin(this.dataDir, 'owner', owner);
    const pwFile = path.join(this.dataDir, 'initdb-password');
    await writeFile(pwFile, owner.password + '\n', { mode: 0o600 });
    ownDir(this.dataDir);
    const [cmd, args] = serverCommand(path.join(this.bin, 'initdb'), [
      '-D', this.clusterDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C.UTF-8',
    ]);
    try {
      await execFileAsync(cmd, args, { timeout: 120_000 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`initdb failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    } finally {
      await rm(pwFile, { force: true });
    }
  }

  async startServer(): Promise<void> {
    if (this.proc) return;
    await this.writeHba();
    const settings = [
      '-c', `port=${this.port}`,
      '-c', 'listen_addresses=127.0.0.1',
      // TCP only: no socket file in a directory someone else may own.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      '-c', 'shared_buffers=64MB',
      '-c', `hba_file=${this.hbaFile}`,
      ...(this.tls ? ['-c', 'ssl=on', '-c', `ssl_cert_file=${this.tls.certFile}`, '-c', `ssl_key_file=${this.tls.keyFile}`, '-c', 'ssl_min_protocol_version=TLSv1.2'] : []),
      ...(this.throwaway ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ...Object.entries(this.extraSettings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    const [cmd, args] = serverCommand(path.join(this.bin, 'postgres'), ['-D', this.clusterDir, ...settings]);
    // Opened by us and handed over as stdout/stderr, so the log needs no particular owner. The
    // owner's alone (also a log left wider by an earlier start): a refused statement is logged
    // with its text and the values its error names (a duplicate key's).
    const logFd = openSync(this.logFile, 'a', 0o600);
    fchmodSync(logFd, 0o600);
    let proc: ChildProcess;
    try {
      // detached: a Ctrl-C in the terminal reaches only us; we decide when the server stops.
      proc = spawn(cmd, args, { detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    this.proc = proc;
    this.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        if (this.postmasterPid !== undefined) releaseProcess(this.postmasterPid);
        if (this.proc === proc) this.proc = undefined;
        if (!this.stopping) this.log(`[local-postgres] server exited (${signal ?? `code ${code}`})`);
        resolve();
      });
      proc.once('error', (err) => {
        this.log(`[local-postgres] could not start postgres: ${err.message}`);
        if (this.proc === proc) this.proc = undefined;
        resolve();
      });
    });
    await this.waitReady();
  }

  /** Ready = postmaster.pid names a running process and a connection succeeds. */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const pg = (await import('pg')).default;
    let lastProblem = 'not started';
    while (Date.now() < deadline) {
      if (!this.proc) throw await this.startError('postgres exited during startup');
      const pidLine = (await readFile(path.join(this.clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0];
      if (/^\d+$/.test(pidLine ?? '')) {
        const pid = Number(pidLine);
        if (pid !== this.postmasterPid) {
          this.postmasterPid = pid;
          ownProcess(pid, POSTMASTER_PROCESS);
        }
        // The maintenance database: ours may not exist yet on a fresh cluster.
        const client = new pg.Client(databaseClientConfig(this.maintenanceUrl, { connectionTimeoutMillis: 2000 }));
        try {
          await client.connect();
          await client.query('select 1');
          return;
        } catch (err) {
          lastProblem = (err as Error).message;
        } finally {
          await client.end().catch(() => {});
        }
      }
      await sleep(150);
    }
    throw await this.startError(`not ready after ${READY_TIMEOUT_MS / 1000} s (${lastProblem})`);
  }

  private async startError(what: string): Promise<Error> {
    const lines = (await readFile(this.logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-30).join('\n');
    return new Error(`PostgreSQL on 127.0.0.1:${this.port} ${what}.\n--- last lines of ${this.logFile} ---\n${lines || '(empty)'}\n`);
  }

  async stopServer(): Promise<void> {
    const proc = this.proc;
    const exited = this.exited;
    if (!proc || !exited) return;
    // SIGINT to the postmaster itself = fast shutdown. Not via runuser: it would turn the
    // signal into SIGTERM (smart shutdown, which waits for every pooled client) and SIGKILL
    // the server 2 s later.
    const target = this.postmasterPid ?? proc.pid;
    try {
      if (target !== undefined) process.kill(target, 'SIGINT');
    } catch {
      /* already gone */
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_GRACE_MS)))]);
    clearTimeout(timer);
    if (timedOut) {
      this.log(`[local-postgres] server did not stop within ${STOP_GRACE_MS / 1000} s; immediate shutdown`);
      try {
        if (target !== undefined) process.kill(target, 'SIGQUIT');
      } catch {
        /* gone */
      }
      await exited;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopServer();
      if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
      this.log('[local-postgres] stopped');
    })();
    return this.stopping;
  }

  private get maintenanceUrl(): string {
    return this.urlFor(this.owner ?? { username: SUPERUSER, password: '' }, 'postgres');
  }

  setPort(port: number): void {
    this.port = port;
    this.url = this.urlFor(this.owner ?? { username: SUPERUSER, password: '' });
    const shown = new URL(this.url);
    if (shown.password) shown.password = '***';
    this.displayUrl = shown.toString();
  }

  /** The cluster's default database is `postgres`; ours is created once. */
  async ensureDatabase(): Promise<void> {
    const pg = (await import('pg')).default;
    const client = new pg.Client(databaseClientConfig(this.maintenanceUrl));
    await client.connect();
    try {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
      if (!rowCount) await client.query(`create database ${DATABASE}`);
    } finally {
      await client.end();
    }
  }
}

/** Starts a local PostgreSQL server and resolves once clients can use its `lgsp` database. */
export async function startLocalPostgres(opts: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const log = opts.log ?? (() => {});
  const bin = findPostgresBin();
  const ownsDataDir = !opts.dataDir;
  const dataDir = opts.dataDir ? path.resolve(opts.dataDir) : await mkdtemp(path.join(os.tmpdir(), 'lgsp-postgres-'));
  await mkdir(dataDir, { recursive: true });
  try {
    assertPostgresCanReach(dataDir);
    const tls = opts.plaintext ? undefined : await ensureServerTls(dataDir);
    if (tls?.created) log(`[local-postgres] TLS certificate made; clients trust ${tls.caFile}`);
    // The server reads its key as the postgres user (root runs it through runuser).
    if (tls) ownDir(path.dirname(tls.keyFile));
    const server = new LocalPostgresServer(dataDir, bin, opts.throwaway ?? ownsDataDir, ownsDataDir, log, tls, opts.settings);
    await server.initIfNeeded();
    server.owner = await readLogin(dataDir, 'owner');
    // A cluster from before passwords: it starts with trust, just long enough to set one.
    const needsOwnerPassword = !server.owner;
    for (let attempt = 1; ; attempt++) {
      server.setPort(await freePort());
      const t0 = Date.now();
      try {
        await server.startServer();
        if (needsOwnerPassword && !server.owner) await server.setOwnerPassword();
        await server.ensureDatabase();
        log(`[local-postgres] ready on 127.0.0.1:${server.port} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return server;
      } catch (err) {
        await server.stopServer();
        const portTaken = /could not bind|Address already in use/.test((err as Error).message);
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw err;
        log('[local-postgres] the chosen port was taken meanwhile; retrying with a new one');
      }
    }
  } catch (err) {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
