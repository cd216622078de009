// Topic names (DESIGN §4). An optional prefix namespaces a whole bus on a shared cluster
// (and keeps parallel test runs apart on one broker).

export interface Topics {
  /** Also prefixes consumer group ids: groups of different buses must never mix. */
  prefix: string;
  message(service: string): string;
  retry(connector: string): string;
  deadLetter(connector: string): string;
  events: string;
  /** Messages waiting for systems that pull (GET /v1/inbox): the runtime deposits, the gateway serves. */
  inbox: string;
  /**
   * Every signed audit checkpoint, also kept outside the audit database (one partition, in
   * order), so `lgsp audit verify` notices a chain cut back together with its checkpoints.
   */
  auditCheckpoints: string;
  /** Extracts the service code from a work topic name, or null. */
  serviceOf(topic: string): string | null;
  /** Matches every work topic (lgsp.msg.*) of this bus: the audit reads all of them. */
  messagePattern: RegExp;
}

export function topicsFor(prefix = ''): Topics {
  const msg = `${prefix}lgsp.msg.`;
  return {
    prefix,
    message: (service) => msg + service,
    retry: (connector) => `${prefix}lgsp.retry.${connector}`,
    deadLetter: (connector) => `${prefix}lgsp.dlq.${connector}`,
    events: `${prefix}lgsp.events`,
    inbox: `${prefix}lgsp.inbox`,
    auditCheckpoints: `${prefix}lgsp.audit.checkpoints`,
    messagePattern: new RegExp(`^${msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[A-Za-z0-9._-]+$`),
    serviceOf: (topic) => (topic.startsWith(msg) ? topic.slice(msg.length) : null),
  };
}
