// A misspelt setting in a connector's configuration ("timeoutMS" for "timeoutMs") is refused by
// its configSchema; the refusal must name the key, or the operator reads "(root) must NOT have
// additional properties" in the connector's status and has to guess which of the keys it means.
// The same check runs in the runner, the SDK harness and `lgsp connector list`.
import t from 'tap';
import relay from '../connectors/relay/index.js';
import { testConnector } from '@lgsp/sdk/testing';

t.test('an unknown configuration key is named in the refusal', async (t) => {
  await t.rejects(
    testConnector(relay, { config: { timeoutMS: 5000 } }),
    /connector relay: invalid configuration: \(root\) has unknown property "timeoutMS"/,
  );
  await t.rejects(testConnector(relay, { config: { timeoutMs: 1 } }), /\/timeoutMs must be >= 100/, 'other refusals read as before');
});
