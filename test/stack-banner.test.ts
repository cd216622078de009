// npm start's banner sends the operator to the credentials of the data directory the stack runs
// on: with LGSP_DATA_DIR set, not to .lgsp/dev.
import t from 'tap';
import { stackBanner } from '../services/stack/stack-banner.js';

const urls = {
  gateways: ['http://127.0.0.1:18380'], docs: 'http://127.0.0.1:18380/docs', runners: ['http://127.0.0.1:2'], audit: 'http://127.0.0.1:3',
  agencySimulator: 'http://127.0.0.1:4', mockPortal: 'http://127.0.0.1:5', oneStopSimulator: 'http://127.0.0.1:6',
  qlvbSimulator: 'http://127.0.0.1:7', reportingSimulator: 'http://127.0.0.1:8', console: 'http://127.0.0.1:9',
};

t.test('the console line names the operator credentials of this data directory', async (t) => {
  const banner = stackBanner(urls, {
    ownsKafka: true, ownsPostgres: false, brokers: '127.0.0.1:9092', postgres: '(DATABASE_URL from the environment)',
    clientsDir: '/srv/lgsp/h3/clients', stackFile: '/srv/lgsp/h3/stack.json',
  });
  t.match(banner, /operator console {2}http:\/\/127\.0\.0\.1:9 .*log in with \/srv\/lgsp\/h3\/clients\/lgsp-operator\.json clientId \+ clientSecret/);
  t.notMatch(banner, /\.lgsp\/dev/);
  t.match(banner, /Ctrl-C stops everything, the broker included\):/, 'says what Ctrl-C stops');
  t.match(banner, /stack file {8}\/srv\/lgsp\/h3\/stack\.json/);
});
