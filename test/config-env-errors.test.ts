// An operator sets environment variables, not configuration keys: a bad value is said under the
// variable's name, with the value given and, for a choice, the allowed values. `LOG_LEVEL=DEBUG`
// stopped every service with "invalid configuration: logLevel must be equal to one of the
// allowed values", naming neither the variable nor the values.
import t from 'tap';
import { loadConfig } from '../services/platform/config.js';

t.test('a bad LOG_LEVEL names the variable, the value and the levels', async (t) => {
  const err = t.throws(() => loadConfig({}, { LOG_LEVEL: 'DEBUG' })) as Error;
  t.match(err.message, /LOG_LEVEL/, 'the variable');
  t.match(err.message, /"DEBUG"/, 'the value given');
  t.match(err.message, /fatal, error, warn, info, debug, trace, silent/, 'the allowed levels');
});

t.test('a number out of range names the variable and the value', async (t) => {
  const err = t.throws(() => loadConfig({}, { LGSP_TOKEN_TTL_SECONDS: '86400' })) as Error;
  t.match(err.message, /LGSP_TOKEN_TTL_SECONDS \(tokenTtlSeconds\) must be <= 3600, got "86400"/);
});

t.test('a value from the configuration file keeps its key name', async (t) => {
  const err = t.throws(() => loadConfig({ logLevel: 'loud' }, {})) as Error;
  t.match(err.message, /logLevel must be equal to one of the allowed values: fatal/);
  t.notMatch(err.message, /LOG_LEVEL/);
});

t.test('the runner fetch window: its bytes are read from LGSP_RUNNER_FETCH_WINDOW_BYTES, and a window of no bytes is refused', async (t) => {
  t.equal(loadConfig({}, {}).runnerFetchWindowBytes, 16 * 1024, 'about seven 1 KiB messages by default');
  t.equal(loadConfig({}, { LGSP_RUNNER_FETCH_WINDOW_BYTES: '262144' }).runnerFetchWindowBytes, 262144);
  const err = t.throws(() => loadConfig({}, { LGSP_RUNNER_FETCH_WINDOW_BYTES: '0' })) as Error;
  t.match(err.message, /LGSP_RUNNER_FETCH_WINDOW_BYTES \(runnerFetchWindowBytes\) must be >= 1, got "0"/);
});
