// `npm start` wiring for the periodic-report demo: an API key for the reporting system
// simulator (random, generated once into the data dir, never committed), given to the simulator
// and to the runner as the periodic-report connector's secret (LGSP_SECRET_PERIODIC_REPORT_API_KEY),
// and the simulator's URL for the registry endpoint placeholder.
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { keepPrivate, writePrivateFile } from '../platform/private-file.js';

/** Seed endpoints under this base point at the local reporting system simulator. */
export const REPORTING_SIMULATOR_PLACEHOLDER = 'http://reporting-simulator.invalid';
export const REPORTING_API_KEY_SECRET_ENV = 'LGSP_SECRET_PERIODIC_REPORT_API_KEY';

export interface ReportingDemoSetup {
  simulatorEnv: Record<string, string>;
  runnerEnv: Record<string, string>;
  endpointBases: Record<string, string>;
}

export function prepareReportingDemo(opts: { dataDir: string; simulatorUrl: string }): ReportingDemoSetup {
  const keyFile = join(opts.dataDir, 'reporting-api-key');
  let apiKey: string;
  if (existsSync(keyFile)) {
    keepPrivate(keyFile);
    apiKey = readFileSync(keyFile, 'utf8').trim();
  } else {
    apiKey = randomBytes(24).toString('base64url');
    writePrivateFile(keyFile, apiKey + '\n');
  }
  return {
    simulatorEnv: { REPORTING_API_KEY: apiKey },
    runnerEnv: { [REPORTING_API_KEY_SECRET_ENV]: apiKey },
    endpointBases: { [REPORTING_SIMULATOR_PLACEHOLDER]: opts.simulatorUrl },
  };
}
