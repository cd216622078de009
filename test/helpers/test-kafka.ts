// Kafka clients for tests, on whatever broker `npm test` (with-kafka) pointed them at: its
// connection settings come from the environment (KAFKA_BROKERS, KAFKA_SSL_CA_FILE,
// KAFKA_CREDENTIALS_DIR or LGSP_KAFKA_PLAINTEXT). Tests read and forge records as `admin`,
// and grant each bus's ACLs (its own topic prefix) before starting its services.
import type { Kafka } from 'kafkajs';
import { kafkaSettingsFromEnv, type KafkaSettings } from '../../services/platform/config.js';
import { createKafka } from '../../services/platform/kafka-transport.js';
import { provisionBusAcls } from '../../services/platform/kafka-acls.js';
import type { KafkaPrincipal } from '../../services/platform/kafka-security.js';

export function testKafkaSettings(): KafkaSettings {
  const settings = kafkaSettingsFromEnv(process.env);
  if (settings.kafkaBrokers.length === 0) throw new Error('KAFKA_BROKERS is not set: run tests with `npm test`, which starts a broker');
  return settings;
}

export function testKafka(clientId: string, principal: KafkaPrincipal = 'admin', brokers?: string[]): Kafka {
  return createKafka(clientId, { ...testKafkaSettings(), ...(brokers ? { kafkaBrokers: brokers } : {}) }, principal);
}

/** Grants the services' ACLs on topic prefix `prefix` (nothing to do on a plaintext broker). */
export function grantTestAcls(prefix: string): Promise<void> {
  return provisionBusAcls(testKafkaSettings(), prefix);
}
