// Files that hold secrets (dev client credentials, passwords, API keys): readable by their owner
// only. writeFileSync's `mode` applies only when it creates the file: one that already exists
// (made by an earlier release, restored from a backup, copied without its modes) keeps the
// permissions it has, and its secret stays readable by every local user. The stack reads or
// rewrites these files at every start, so every start puts their modes right.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';

/** A directory of secret files: 0700, made so or put right. */
export function privateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Makes an existing secret file 0600. */
export function keepPrivate(file: string): void {
  chmodSync(file, 0o600);
}

/** Writes a secret file as 0600; an existing file is narrowed before the secret goes in. */
export function writePrivateFile(file: string, text: string): void {
  if (existsSync(file)) keepPrivate(file);
  writeFileSync(file, text, { mode: 0o600 });
}
