// As root the project's PostgreSQL runs as the `postgres` system user, which must be able to
// enter every directory above its data directory. Under a private parent (mktemp -d makes 0700
// ones) initdb failed with "could not open …/initdb-password: Permission denied", which said
// nothing of why; the start now says which directory and what to do.
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPostgres, unenterableAncestor } from '../services/local-postgres/local-postgres.js';

t.test('which directory above a data directory a user cannot enter', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'lgsp-private-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'postgres', 'data');
  const { uid, gid } = statSync(parent);
  const other = { uid: uid + 4242, gid: gid + 4242 };
  chmodSync(parent, 0o700);
  t.equal(unenterableAncestor(dataDir, other.uid, other.gid), parent, 'a 0700 parent owned by someone else: that parent');
  t.equal(unenterableAncestor(dataDir, uid, gid), null, 'its owner enters it');
  chmodSync(parent, 0o750);
  t.equal(unenterableAncestor(dataDir, other.uid, gid), null, 'group members enter a 0750 one');
  t.equal(unenterableAncestor(dataDir, other.uid, other.gid), parent, 'others do not');
  chmodSync(parent, 0o701);
  t.equal(unenterableAncestor(dataDir, other.uid, other.gid), null, 'search permission for others is enough (no listing)');
});

t.test('a data directory under a private parent', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'lgsp-private-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  chmodSync(parent, 0o700);
  const start = startLocalPostgres({ dataDir: join(parent, 'postgres'), log: () => undefined });
  if (process.getuid?.() === 0) {
    // Root: the server would run as `postgres`, which cannot enter the parent.
    await t.rejects(start, { message: new RegExp(`postgres system user .*cannot enter ${parent} \\(mode 0700\\).*LGSP_DATA_DIR.*chmod o\\+x ${parent}`) }, 'refused at once, naming the directory and the way out');
  } else {
    // Anyone else runs the server as themselves, who own the parent.
    const server = await start;
    t.teardown(() => server.stop());
    t.ok(server.pid, 'started');
  }
});
