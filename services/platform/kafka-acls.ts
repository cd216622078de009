// What each principal of the bus may do on Kafka: least privilege per service, on the bus's
// topic prefix (PREFIXED patterns for topic families, LITERAL for single topics), so several
// buses share a cluster without reaching into each other. The broker denies everything else
// (allow.everyone.if.no.acl.found=false). deploy/kubernetes/kafka-users.yaml states the same
// rules as Strimzi KafkaUser resources; keep the two in step.
//
// Notable denials:
// - only the gateway writes the message topics (lgsp.msg.*): the runner, the console and the
//   audit can at most read them;
// - the console never writes a message topic: a dead-letter replay goes to the connector's retry
//   topic (dead-letter-replay.ts), which the runner reads and verifies like any retry;
// - lgsp.events is written by the platform services only (gateway, runner, console's operator
//   actions); the audit and the ledger only read it.
import kafkajs, { type Admin } from 'kafkajs';
import { kafkaUserName, type KafkaPrincipal } from './kafka-security.js';
import type { KafkaSettings } from './config.js';
import { createKafka } from './kafka-transport.js';

export type AclOperation = 'Read' | 'Write' | 'Create' | 'Describe';

export interface AclRule {
  resource: 'topic' | 'group';
  /** Name after the bus prefix. */
  name: string;
  pattern: 'literal' | 'prefixed';
  operations: AclOperation[];
}

const topic = (name: string, pattern: AclRule['pattern'], operations: AclOperation[]): AclRule => ({ resource: 'topic', name, pattern, operations });
const group = (name: string, pattern: AclRule['pattern'], operations: AclOperation[]): AclRule => ({ resource: 'group', name, pattern, operations });

/** Topic and group names here are the ones in topics.ts, reply-topic.ts and the services' group ids. */
export const BUS_ACLS: Record<Exclude<KafkaPrincipal, 'admin'>, AclRule[]> = {
  gateway: [
    topic('lgsp.msg.', 'prefixed', ['Write', 'Create', 'Describe']),
    topic('lgsp.events', 'literal', ['Write', 'Create', 'Describe']),
    topic('lgsp.reply', 'literal', ['Read', 'Create', 'Describe']),
    group('lgsp-gateway-', 'prefixed', ['Read']),
  ],
  // The runner also hosts the ledger (services/ledger): it reads lgsp.events and lgsp.inbox.
  runner: [
    topic('lgsp.msg.', 'prefixed', ['Read', 'Create', 'Describe']),
    topic('lgsp.retry.', 'prefixed', ['Read', 'Write', 'Create', 'Describe']),
    topic('lgsp.dlq.', 'prefixed', ['Write', 'Create', 'Describe']),
    topic('lgsp.events', 'literal', ['Read', 'Write', 'Create', 'Describe']),
    topic('lgsp.reply', 'literal', ['Write', 'Create', 'Describe']),
    topic('lgsp.inbox', 'literal', ['Read', 'Write', 'Create', 'Describe']),
    group('lgsp-connector-', 'prefixed', ['Read']),
    group('lgsp-ledger', 'prefixed', ['Read']),
  ],
  // Create: it makes the work topics and lgsp.events when it starts first (never writes them).
  audit: [
    topic('lgsp.msg.', 'prefixed', ['Read', 'Create', 'Describe']),
    topic('lgsp.events', 'literal', ['Read', 'Create', 'Describe']),
    topic('lgsp.audit.checkpoints', 'literal', ['Read', 'Write', 'Create', 'Describe']),
    group('lgsp-audit', 'prefixed', ['Read']),
  ],
  console: [
    // Describe only: the lag monitor reads end offsets; the console never writes here.
    topic('lgsp.msg.', 'prefixed', ['Describe']),
    // The audited replay path (and end offsets for the lag monitor).
    topic('lgsp.retry.', 'prefixed', ['Write', 'Describe']),
    topic('lgsp.dlq.', 'prefixed', ['Read', 'Create', 'Describe']),
    // Operator actions and `replayed` events.
    topic('lgsp.events', 'literal', ['Write', 'Create', 'Describe']),
    topic('lgsp.inbox', 'literal', ['Describe']),
    group('lgsp-console-', 'prefixed', ['Read']),
    // Committed offsets of the connectors', the audit's and the ledger's groups, for the lag monitor.
    group('lgsp-connector-', 'prefixed', ['Describe']),
    group('lgsp-audit', 'prefixed', ['Describe']),
    group('lgsp-ledger', 'prefixed', ['Describe']),
  ],
  // A ledger deployed on its own (today it runs inside the runners, as the runner principal).
  ledger: [
    topic('lgsp.events', 'literal', ['Read', 'Describe']),
    topic('lgsp.inbox', 'literal', ['Read', 'Describe']),
    group('lgsp-ledger', 'prefixed', ['Read']),
  ],
};

// kafkajs (CommonJS) exports its enums in a way Node's ESM named-export detection misses.
const { AclOperationTypes: Op, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const OPERATION = { Read: Op.READ, Write: Op.WRITE, Create: Op.CREATE, Describe: Op.DESCRIBE } as const satisfies Record<AclOperation, number>;

/**
 * Creates the ACLs of every service principal for the bus with topic prefix `prefix`, as
 * `usernames` names them on this cluster (default: lgsp-<principal>). Idempotent: Kafka keeps
 * one copy of an ACL created twice. Needs an admin (super user or Alter on the cluster).
 */
export async function grantBusAcls(admin: Admin, prefix: string, usernames: (p: KafkaPrincipal) => string = kafkaUserName): Promise<void> {
  const acl = busAclEntries(prefix, usernames);
  await admin.createAcls({ acl });
  await awaitAclsVisible(admin, acl);
}

/** The ACL entries of every service principal for the bus with topic prefix `prefix`. */
function busAclEntries(prefix: string, usernames: (p: KafkaPrincipal) => string) {
  return Object.entries(BUS_ACLS).flatMap(([principal, rules]) =>
    rules.flatMap((rule) =>
      rule.operations.map((operation) => ({
        resourceType: rule.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
        resourceName: prefix + rule.name,
        resourcePatternType: rule.pattern === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
        principal: `User:${usernames(principal as KafkaPrincipal)}`,
        host: '*',
        operation: OPERATION[operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    ),
  );
}

/**
 * The controller has committed the ACLs when createAcls returns, but each broker applies them
 * from the metadata log a moment later; a service started right away could be refused. The
 * broker answers DescribeAcls from its own authorizer, so wait until it lists them all.
 */
async function awaitAclsVisible(admin: Admin, wanted: { resourceType: number; resourceName: string; resourcePatternType: number; principal: string; operation: number }[]): Promise<void> {
  const key = (a: { resourceType: number; resourceName: string; resourcePatternType: number; principal: string; operation: number }) =>
    `${a.resourceType}|${a.resourcePatternType}|${a.resourceName}|${a.principal}|${a.operation}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const seen = new Set<string>();
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: Op.ANY,
      permissionType: AclPermissionTypes.ALLOW,
    });
    for (const r of resources) for (const a of r.acls) seen.add(key({ resourceType: r.resourceType, resourceName: r.resourceName, resourcePatternType: r.resourcePatternType, principal: a.principal, operation: a.operation }));
    const missing = wanted.filter((w) => !seen.has(key(w))).length;
    if (missing === 0) return;
    if (Date.now() > deadline) throw new Error(`${missing} Kafka ACLs still not visible on the broker 30 s after they were created`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Setup step (stack, tests, bench): grants the bus's ACLs as the admin principal; nothing to do on a plaintext broker. */
export async function provisionBusAcls(settings: KafkaSettings, prefix: string): Promise<void> {
  if (settings.kafkaPlaintext) return;
  const admin = createKafka('lgsp-setup', settings, 'admin').admin();
  await admin.connect();
  try {
    await grantBusAcls(admin, prefix);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Removes what provisionBusAcls granted for `prefix` (a bus that is gone for good: a test's
 * throwaway bus). Each test bus left its ACLs on the suite's shared broker, and the visibility
 * check above lists them all: over a suite run thousands, each poll slower than the last.
 */
export async function revokeBusAcls(settings: KafkaSettings, prefix: string): Promise<void> {
  if (settings.kafkaPlaintext) return;
  const admin = createKafka('lgsp-setup', settings, 'admin').admin();
  await admin.connect();
  try {
    await admin.deleteAcls({ filters: busAclEntries(prefix, kafkaUserName) });
  } finally {
    await admin.disconnect();
  }
}
