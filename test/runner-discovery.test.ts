// The console reaches every runner replica: `dns+http://name:port` in LGSP_RUNNER_URL stands for
// every address the name resolves to (a Kubernetes headless Service: each ready pod), fixed
// entries stay as they are, and a name that does not resolve stays as its URL so that asking it
// reports the resolver's reason.
import t from 'tap';
import { resolveRunnerUrls, type AddressLookup } from '../services/console/runner-discovery.js';

const table: Record<string, { address: string; family: number }[]> = {
  'lgsp-runner-pods': [
    { address: '10.1.0.7', family: 4 },
    { address: '10.1.0.9', family: 4 },
    { address: 'fd00::12', family: 6 },
  ],
  'one-runner': [{ address: '10.1.0.7', family: 4 }],
};
const asked: string[] = [];
const lookup: AddressLookup = async (hostname) => {
  asked.push(hostname);
  const found = table[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found;
};

t.test('a dns+ entry is every address its name resolves to', async (t) => {
  t.same(await resolveRunnerUrls(['dns+http://lgsp-runner-pods:8080'], lookup), ['http://10.1.0.7:8080', 'http://10.1.0.9:8080', 'http://[fd00::12]:8080']);
  t.same(await resolveRunnerUrls(['dns+http://lgsp-runner-pods:8080/base/'], lookup), ['http://10.1.0.7:8080/base', 'http://10.1.0.9:8080/base', 'http://[fd00::12]:8080/base'], 'a path is kept');
});

t.test('fixed entries are kept as given, mixed with resolved ones, repeats dropped', async (t) => {
  asked.length = 0;
  t.same(await resolveRunnerUrls(['http://runner-1:8080', 'dns+http://one-runner:8080', 'http://10.1.0.7:8080'], lookup), ['http://runner-1:8080', 'http://10.1.0.7:8080']);
  t.same(asked, ['one-runner'], 'only dns+ entries are looked up');
});

t.test('a name that does not resolve stays as its plain URL', async (t) => {
  t.same(await resolveRunnerUrls(['dns+http://gone:8080'], lookup), ['http://gone:8080']);
  t.same(await resolveRunnerUrls(['dns+http://empty:8080'], async () => []), ['http://empty:8080'], 'nor does an empty answer lose the entry');
});

t.test('each request looks the name up again: a replica that came or went is followed', async (t) => {
  t.equal((await resolveRunnerUrls(['dns+http://lgsp-runner-pods:8080'], lookup)).length, 3);
  table['lgsp-runner-pods'] = table['lgsp-runner-pods'].slice(0, 1);
  t.same(await resolveRunnerUrls(['dns+http://lgsp-runner-pods:8080'], lookup), ['http://10.1.0.7:8080']);
});

t.test('the real resolver: an address literal needs no lookup, localhost resolves', async (t) => {
  t.same(await resolveRunnerUrls(['dns+http://127.0.0.1:8080']), ['http://127.0.0.1:8080']);
  t.ok((await resolveRunnerUrls(['dns+http://localhost:8080'])).includes('http://127.0.0.1:8080'), 'localhost resolves to 127.0.0.1 among its addresses');
});
