// What `npm start` prints once the stack is up: every URL, and where the credentials are. Paths
// come from the data directory the stack runs on (LGSP_DATA_DIR), so an operator who set one is
// not sent to .lgsp/dev for a login that is not there.
import { join } from 'node:path';

export interface StackUrls {
  gateways: string[];
  docs: string;
  runners: string[];
  audit: string;
  agencySimulator: string;
  mockPortal: string;
  oneStopSimulator: string;
  qlvbSimulator: string;
  reportingSimulator: string;
  console: string;
}

export interface BannerContext {
  /** What Ctrl-C stops besides the services. */
  ownsKafka: boolean;
  ownsPostgres: boolean;
  brokers: string;
  /** The PostgreSQL line, without a password. */
  postgres: string;
  clientsDir: string;
  stackFile: string;
}

export function stackBanner(stack: StackUrls, c: BannerContext): string {
  return `
LGSP bus is running (Ctrl-C stops everything${c.ownsKafka ? ', the broker included' : ''}${c.ownsPostgres ? ', PostgreSQL included' : ''}):
  gateway           ${stack.gateways.join(' ')}      API docs ${stack.docs}
  runner            ${stack.runners.join(' ')}      (connector management: /v1/connectors)
  audit             ${stack.audit}      (operator query API: /v1/audit/events)
  agency simulator  ${stack.agencySimulator}      (received messages: /_admin/systems/<clientId>/received)
  mock DVCQG portal ${stack.mockPortal}      (what it holds: /_admin/dossiers; fault knobs: PUT /_admin/faults)
  one-stop systems  ${stack.oneStopSimulator}      (demo dossier traffic: /_admin/state)
  QLVB simulator    ${stack.qlvbSimulator}      (documents received and statuses answered: /_admin/systems/<clientId>/documents)
  reporting system  ${stack.reportingSimulator}      (periodic reports received: /_admin/reports)
  operator console  ${stack.console}      (log in with ${join(c.clientsDir, 'lgsp-operator.json')} clientId + clientSecret)
  kafka             ${c.brokers}
  postgres          ${c.postgres}
  dev credentials   ${c.clientsDir}/<clientId>.json
  stack file        ${c.stackFile}
`;
}
