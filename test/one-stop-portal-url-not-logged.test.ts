// The one-stop-shop connector names the portal it talks to when it starts. A portal URL written
// with `user:password@` (the password belongs in the portalPassword secret, but a URL copied from
// a browser may carry one) must not put that password in the runner's log. Unit test: no Kafka.
import t from 'tap';
import oneStopShop from '../connectors/one-stop-shop/index.js';

t.test('the start line names the portal without the password of its URL', async (t) => {
  const lines: unknown[] = [];
  const log = { info: (...args: unknown[]) => void lines.push(args), warn: () => undefined, error: () => undefined, debug: () => undefined };
  const config = { portalUrl: 'https://tinh:S3cret-Pa55@dvcqg.example.vn:8443/api', username: 'tinh' };
  await oneStopShop.start?.({ connector: 'one-stop-shop', config, log } as unknown as Parameters<NonNullable<typeof oneStopShop.start>>[0]);
  const written = JSON.stringify(lines);
  t.notMatch(written, /S3cret-Pa55/, 'the password is not logged');
  t.match(written, /https:\/\/dvcqg\.example\.vn:8443\/api/, 'the portal is named by origin and path');
});
