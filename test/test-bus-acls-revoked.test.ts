// Each test bus grants its services' Kafka ACLs on the suite's shared broker. They were never
// removed: thousands by the end of a suite run, and every bus's start lists them all while it
// waits for its own to be visible (kafka-acls.ts), each start slower than the last. A stopped
// bus now revokes its own, and leaves every other bus's alone.
import t from 'tap';
import kafkajs from 'kafkajs';
import { startTestBus } from './helpers/test-bus.js';
import { testKafkaSettings } from './helpers/test-kafka.js';
import { createKafka } from '../services/platform/kafka-transport.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

t.test('a stopped test bus revokes its own ACLs and no other bus\'s', async (t) => {
  const settings = testKafkaSettings();
  t.ok(!settings.kafkaPlaintext, 'the suite runs its broker with SASL and ACLs');
  const admin = createKafka('acl-check', settings, 'admin').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const aclNamesWith = async (prefix: string) => {
    const { resources } = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
    return resources.filter((r) => r.resourceName.startsWith(prefix)).reduce((n, r) => n + r.acls.length, 0);
  };
  const kept = await startTestBus(t, { name: 'acl-kept' });
  const gone = await startTestBus(t, { name: 'acl-gone' });
  t.ok((await aclNamesWith(gone.config.topicPrefix)) > 10, 'the bus had its ACLs while it ran');
  const keptBefore = await aclNamesWith(kept.config.topicPrefix);
  await gone.stop();
  t.equal(await aclNamesWith(gone.config.topicPrefix), 0, 'none left once it stopped');
  t.equal(await aclNamesWith(kept.config.topicPrefix), keptBefore, 'the other bus keeps all of its own');
});
