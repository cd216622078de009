// Fetches (once) and caches the Apache Kafka broker's Java classpath.
//
// There is no Docker and no Apache download site on our machines, but Maven Central is
// reachable: deploy/kafka/pom.xml depends on org.apache.kafka:kafka_2.13 plus a log4j2 backend,
// and `mvn dependency:copy-dependencies` copies the whole runtime classpath into a cache dir
// outside git. Later calls only check a marker file, so they cost a few milliseconds.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MARKER = '.complete';
// A lock older than this is assumed to belong to a crashed download (mvn needs ~10 s warm,
// maybe a minute or two on a cold ~/.m2).
const STALE_LOCK_MS = 15 * 60_000;
const MVN_TIMEOUT_MS = 10 * 60_000;

/** Finds a file under deploy/kafka/, both from services/ (tap runs .ts) and dist/services/. */
export function kafkaDeployFile(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'deploy', 'kafka', name);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`deploy/kafka/${name} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The Kafka version pinned in deploy/kafka/pom.xml (the pom is the single source of truth). */
export async function kafkaVersion(): Promise<string> {
  const pom = await readFile(kafkaDeployFile('pom.xml'), 'utf8');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!m) throw new Error('deploy/kafka/pom.xml has no <kafka.version> property');
  return m[1].trim();
}

export function cacheRoot(): string {
  return process.env.LGSP_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'lgsp');
}

interface Marker {
  pomSha256: string;
  jars: string[];
}

/**
 * Returns the directory holding the broker's jars (use it as `-cp '<dir>/*'`).
 * Runs Maven only when the cache is missing, incomplete, or was made from a different pom.
 * Concurrent callers (e.g. parallel tap jobs) serialize on a lock directory so only one downloads.
 */
/** `log` hears about a download (the first run), not about a cached distribution. */
export async function ensureKafkaDistribution(log: (line: string) => void = () => {}): Promise<string> {
  const pomFile = kafkaDeployFile('pom.xml');
  const pomSha256 = createHash('sha256').update(await readFile(pomFile)).digest('hex');
  const versionDir = path.join(cacheRoot(), `kafka-${await kafkaVersion()}`);
  const libs = path.join(versionDir, 'libs');

  if (await isComplete(versionDir, libs, pomSha256)) return libs;

  await mkdir(versionDir, { recursive: true });
  const release = await acquireLock(`${versionDir}.lock`);
  try {
    // Someone else may have finished the download while we waited for the lock.
    if (await isComplete(versionDir, libs, pomSha256)) return libs;

    // Download into a scratch dir and rename, so `libs` is never half-filled.
    const partial = path.join(versionDir, `libs.partial-${process.pid}`);
    log(`downloading Kafka ${await kafkaVersion()} from Maven Central into ${versionDir} (first run only)`);
    await rm(path.join(versionDir, MARKER), { force: true });
    await rm(partial, { recursive: true, force: true });
    await runMaven(pomFile, partial);
    const jars = (await readdir(partial)).filter((f) => f.endsWith('.jar')).sort();
    if (!jars.some((j) => /^kafka_2\.13-.*\.jar$/.test(j))) {
      throw new Error(`mvn finished but ${partial} has no kafka_2.13 jar`);
    }
    await rm(libs, { recursive: true, force: true });
    await rename(partial, libs);
    const marker: Marker = { pomSha256, jars };
    await writeFile(path.join(versionDir, MARKER), JSON.stringify(marker, null, 2) + '\n');
    return libs;
  } finally {
    await release();
  }
}

async function isComplete(versionDir: string, libs: string, pomSha256: string): Promise<boolean> {
  let marker: Marker;
  try {
    marker = JSON.parse(await readFile(path.join(versionDir, MARKER), 'utf8')) as Marker;
  } catch {
    return false;
  }
  if (marker.pomSha256 !== pomSha256 || !Array.isArray(marker.jars)) return false;
  // Every jar listed at download time must still be there (someone may have pruned the cache).
  const present = new Set(await readdir(libs).catch(() => [] as string[]));
  return marker.jars.length > 0 && marker.jars.every((j) => present.has(j));
}

/** mkdir is atomic, so a lock directory works across processes without extra dependencies. */
async function acquireLock(lockDir: string): Promise<() => Promise<void>> {
  const ownerFile = path.join(lockDir, 'owner');
  for (let warned = false; ; ) {
    try {
      await mkdir(lockDir);
      await writeFile(ownerFile, String(process.pid));
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStaleLock(lockDir, ownerFile)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!warned) {
      process.stderr.write(`[local-kafka] waiting for another process fetching Kafka (${lockDir})\n`);
      warned = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function isStaleLock(lockDir: string, ownerFile: string): Promise<boolean> {
  try {
    const st = await stat(lockDir);
    if (Date.now() - st.mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(await readFile(ownerFile, 'utf8').catch(() => ''));
    // No owner file yet: the owner is between mkdir and writeFile; give it time.
    if (!pid) return Date.now() - st.mtimeMs > 10_000;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return true; // owner process is gone
    if (code === 'ENOENT') return false; // lock was just released; retry mkdir
    if (code === 'EPERM') return false; // owner alive, belongs to another user
    throw err;
  }
}

function runMaven(pomFile: string, outputDir: string): Promise<void> {
  const args = [
    '-q', '-B', '--no-transfer-progress',
    '-f', pomFile,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${outputDir}`,
  ];
  process.stderr.write(`[local-kafka] fetching the Kafka broker from Maven Central into ${outputDir}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), MVN_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run mvn (is Maven installed and on PATH?): ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`mvn ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}
