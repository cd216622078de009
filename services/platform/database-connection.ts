// How every PostgreSQL client of the bus connects: one reading of DATABASE_URL, libpq's way, so
// the URL an operator copies from a managed PostgreSQL works as is. TLS is set in the URL's query:
//   sslmode=disable       plaintext (also when sslmode is absent: TLS is on when configured)
//   sslmode=require       encrypted, the server not authenticated (libpq's meaning; avoid)
//   sslmode=verify-ca     encrypted, the server's certificate chains to sslrootcert
//   sslmode=verify-full   verify-ca and the certificate names the host of the URL (use this)
//   sslrootcert=<file>    PEM of the CA(s) to trust; `system` (or absent with verify-full) = the
//                         machine's trusted CAs
//   sslcert=<file>&sslkey=<file>  a client certificate, for servers that ask for one
// `prefer` and `allow` are refused: they fall back to plaintext without a word, which is how a
// confidential link silently stops being one. pg reads some of these parameters itself, with
// its own meanings (its `require` verifies); they are taken out of the connection string and
// turned into explicit TLS options here, so every client — pools, the migrations client, the
// audit leader's session, the CLI — gets exactly the same, libpq-compatible behaviour.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { ConfigError } from './config.js';

export const DATABASE_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type DatabaseSslMode = (typeof DATABASE_SSL_MODES)[number];

const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'];
/** pg's own TLS switches: a second way to say the same thing, refused so there is only one. */
const FOREIGN_TLS_PARAMETERS = ['ssl', 'uselibpqcompat', 'sslpassword', 'sslnegotiation'];

export interface DatabaseConnection {
  /** The URL without its TLS parameters (they are in `ssl`). Holds the password: never log it. */
  connectionString: string;
  ssl: false | ConnectionOptions;
  sslMode: DatabaseSslMode;
}

function readPem(url: URL, parameter: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`DATABASE_URL ${parameter}=${file} cannot be read: ${(err as Error).message} (database ${describeDatabase(url)})`);
  }
}

/** host:port/database of a URL: what a message may show (never the user's password). */
function describeDatabase(url: URL): string {
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

/** The pg client options for `url`; throws ConfigError naming what is wrong with its TLS settings. */
export function databaseConnection(url: string): DatabaseConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL is not a URL: expected postgres://user:password@host:port/database');
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new ConfigError(`DATABASE_URL must start with postgres:// (got ${parsed.protocol}//)`);
  const params = parsed.searchParams;
  for (const name of FOREIGN_TLS_PARAMETERS) {
    if (params.has(name)) throw new ConfigError(`DATABASE_URL parameter ${name} is not supported: set TLS with sslmode (${DATABASE_SSL_MODES.join(', ')}) and sslrootcert`);
  }
  const rawMode = params.get('sslmode');
  const rootCert = params.get('sslrootcert');
  const clientCert = params.get('sslcert');
  const clientKey = params.get('sslkey');
  for (const name of TLS_PARAMETERS) params.delete(name);
  const connectionString = parsed.toString();

  if (rawMode !== null && !(DATABASE_SSL_MODES as readonly string[]).includes(rawMode)) {
    const why = rawMode === 'prefer' || rawMode === 'allow' ? ' (it falls back to plaintext silently)' : '';
    throw new ConfigError(`DATABASE_URL sslmode=${rawMode} is not supported${why}: use one of ${DATABASE_SSL_MODES.join(', ')}`);
  }
  const sslMode = (rawMode ?? 'disable') as DatabaseSslMode;
  if (sslMode === 'disable') {
    if (rootCert !== null || clientCert !== null || clientKey !== null) {
      throw new ConfigError(`DATABASE_URL has TLS files but ${rawMode === null ? 'no sslmode' : 'sslmode=disable'}: add sslmode=verify-full to use them`);
    }
    return { connectionString, ssl: false, sslMode };
  }
  if ((clientCert === null) !== (clientKey === null)) throw new ConfigError('DATABASE_URL needs both sslcert and sslkey for a client certificate, or neither');
  const ssl: ConnectionOptions = {};
  const trustsSystem = rootCert === null || rootCert === 'system';
  if (!trustsSystem) ssl.ca = readPem(parsed, 'sslrootcert', rootCert);
  if (clientCert !== null && clientKey !== null) {
    ssl.cert = readPem(parsed, 'sslcert', clientCert);
    ssl.key = readPem(parsed, 'sslkey', clientKey);
  }
  if (sslMode === 'require') {
    ssl.rejectUnauthorized = false;
  } else {
    if (sslMode === 'verify-ca' && trustsSystem) {
      throw new ConfigError('DATABASE_URL sslmode=verify-ca needs sslrootcert=<your CA file>: any certificate a public CA issued would pass otherwise (or use verify-full)');
    }
    ssl.rejectUnauthorized = true;
    // verify-ca: the chain is checked, the name is not (libpq's meaning).
    if (sslMode === 'verify-ca') ssl.checkServerIdentity = () => undefined;
  }
  return { connectionString, ssl, sslMode };
}

/** pg.Client / pg.Pool options for `url` plus the caller's own (application name, timeouts, pool size...). */
export function databaseClientConfig(url: string, extra: Omit<pg.PoolConfig, 'connectionString' | 'ssl'> = {}): pg.PoolConfig {
  const { connectionString, ssl } = databaseConnection(url);
  return { ...extra, connectionString, ssl };
}

// Node's codes for a server certificate that does not check out against what we trust.
const TLS_VERIFICATION_CODES = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|ERR_TLS_CERT_ALTNAME_INVALID|CERT_SIGNATURE_FAILURE)$/;

/** A configuration error: the URL's TLS settings do not fit the server. */
export class DatabaseTlsError extends ConfigError {
  override name = 'DatabaseTlsError';
}

/**
 * A connection failure made readable: a certificate that does not verify says so and names the
 * settings to look at, instead of Node's bare "self-signed certificate in certificate chain".
 * Anything else comes back unchanged.
 */
export function explainConnectionError(err: unknown, url: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !TLS_VERIFICATION_CODES.test(code)) return err;
  let where = 'the database';
  let mode = '';
  try {
    const parsed = new URL(url);
    where = describeDatabase(parsed);
    mode = `sslmode=${parsed.searchParams.get('sslmode') ?? 'disable'}, sslrootcert=${parsed.searchParams.get('sslrootcert') ?? '(the system CAs)'}`;
  } catch {
    /* the URL was validated before a connection was tried */
  }
  return new DatabaseTlsError(
    `PostgreSQL at ${where}: the server's TLS certificate is not trusted (${code}: ${(err as Error).message}). ` +
      `Check DATABASE_URL's ${mode}: sslrootcert must hold the CA that signed the server's certificate, and with verify-full the certificate must name the URL's host.`,
    { cause: err },
  );
}
