// Runs the operator console on its own: `node dist/services/console/main.js`. PORT picks the
// port; LGSP_AUDIT_URL and LGSP_RUNNER_URL say where the audit service and the runners'
// management API listen (`npm start` sets both; LGSP_RUNNER_URL is comma-separated, one URL per
// runner replica, since each runs its own copy of every connector, or dns+http://<name>:<port> for
// every address a name resolves to: runner-discovery.ts); LGSP_GATEWAY_URL (the token
// endpoint for logins; comma-separated, tried in order while one does not answer) defaults to
// LGSP_ISSUER.
import { runServiceMain } from '../platform/service-main.js';
import { startConsole } from './console-service.js';

await runServiceMain('operator console', (config) =>
  startConsole(config, {
    port: Number(process.env.PORT ?? 0),
    host: process.env.HOST ?? '127.0.0.1',
    upstream: {
      gateway: process.env.LGSP_GATEWAY_URL || undefined,
      audit: process.env.LGSP_AUDIT_URL || null,
      runner: process.env.LGSP_RUNNER_URL || null,
    },
  }),
);
