// The owner's DATABASE_URL of the PostgreSQL that `npm start` runs, for operator commands run
// next to it (lgsp db migrate, lgsp audit verify): stack.json records the URL without its
// password, which stays in <credentialsDir>/owner.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** '' when no stack has run here (or its files are unreadable). */
export function stackDatabaseUrl(dataDir: string): string {
  try {
    const stack = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { postgres?: { url?: unknown; credentialsDir?: unknown } };
    const url = stack.postgres?.url;
    if (typeof url !== 'string') return '';
    const credentialsDir = stack.postgres?.credentialsDir;
    if (typeof credentialsDir !== 'string') return url;
    const owner = JSON.parse(readFileSync(join(credentialsDir, 'owner.json'), 'utf8')) as { username?: unknown; password?: unknown };
    const u = new URL(url);
    if (typeof owner.username === 'string') u.username = owner.username;
    if (typeof owner.password === 'string') u.password = owner.password;
    return u.toString();
  } catch {
    return '';
  }
}
