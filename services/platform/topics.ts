// Topic names (DESIGN §4). An optional prefix namespaces a whole bus on a shared cluster
// (and keeps parallel test runs apart on one broker).

export interface Topics {
  /** Also prefixes consumer group ids: groups of different buses must never mix. */
  prefix: string;
  message(service: string): string;
  retry(connector: string): string;
  deadLetter(connector: string): string;
  events: string;
  audit: string;
  /** Messages waiting for systems that pull (GET /v1/inbox): the runtime deposits, the gateway serves. */
  inbox: string;
  /** Extracts the service code from a work topic name, or null. */
  serviceOf(topic: string): string | null;
}

export function topicsFor(prefix = ''): Topics {
  const msg = `${prefix}lgsp.msg.`;
  return {
    prefix,
    message: (service) => msg + service,
    retry: (connector) => `${prefix}lgsp.retry.${connector}`,
    deadLetter: (connector) => `${prefix}lgsp.dlq.${connector}`,
    events: `${prefix}lgsp.events`,
    audit: `${prefix}lgsp.audit`,
    inbox: `${prefix}lgsp.inbox`,
    serviceOf: (topic) => (topic.startsWith(msg) ? topic.slice(msg.length) : null),
  };
}
