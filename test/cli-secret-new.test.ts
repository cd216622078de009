// Registering a system that authenticates with a client secret (client_secret_basic), or
// replacing a compromised one, needs the registry's `auth.secretHash` (`scrypt$salt$digest`): the
// operator guide said to replace it but nothing in the project made one (npm start hashes only
// the dev clients' secrets). `lgsp secret new` makes a secret and its hash; the hash is taken by
// the gateway's verifier, and the guide's registry procedure names the command.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { SecretVerifier } from '../services/platform/secret-hash.js';

const CLI = join(PROJECT_ROOT, 'dist', 'services', 'cli', 'lgsp.js');

t.test('lgsp secret new prints a secret and a secretHash that verifies it', async (t) => {
  const out = JSON.parse(execFileSync(process.execPath, [CLI, 'secret', 'new'], { encoding: 'utf8', timeout: 30_000 })) as { clientSecret: string; secretHash: string };
  t.match(out.clientSecret, /^[\w-]{32,}$/, 'a random secret, URL-safe');
  t.match(out.secretHash, /^scrypt\$[\w-]+\$[\w-]+$/, 'its hash in the registry form');
  const verifier = new SecretVerifier();
  t.equal(await verifier.verify(out.clientSecret, out.secretHash), true, 'the gateway takes the secret against the hash');
  t.equal(await verifier.verify(`${out.clientSecret}x`, out.secretHash), false);
  const again = JSON.parse(execFileSync(process.execPath, [CLI, 'secret', 'new'], { encoding: 'utf8', timeout: 30_000 })) as { clientSecret: string };
  t.not(again.clientSecret, out.clientSecret, 'a new secret each time');

  let refused: { status: number | null; stderr: string } | undefined;
  try {
    execFileSync(process.execPath, [CLI, 'secret', 'hash', 'my-secret'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    refused = err as { status: number | null; stderr: string };
  }
  t.equal(refused?.status, 2, 'another subcommand is a usage error (a secret on a command line would stay in the shell history)');

  const guide = readFileSync(join(PROJECT_ROOT, 'docs/operator-guide.md'), 'utf8');
  t.match(guide, /lgsp secret new/, 'the guide says how to make a secretHash');
});
