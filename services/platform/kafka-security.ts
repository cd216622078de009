// Who a service is on Kafka and how it proves it. Every client talks TLS (SASL_SSL) and logs in
// with SCRAM as its own principal, so the broker's ACLs (kafka-acls.ts) can give each service
// only what it needs. A plaintext, unauthenticated connection happens only when it was asked
// for by name (LGSP_KAFKA_PLAINTEXT=1), never because a setting was forgotten.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { ConfigError, type KafkaSettings } from './config.js';

/**
 * The principals of the bus. `admin` is used by setup only (creating ACLs, reading every topic
 * in the tests' proofs); a running service never holds its credentials.
 */
export const KAFKA_PRINCIPALS = ['admin', 'gateway', 'runner', 'audit', 'console', 'ledger'] as const;
export type KafkaPrincipal = (typeof KAFKA_PRINCIPALS)[number];

/** The SCRAM user name of a principal on the local broker (deployments may name theirs freely). */
export function kafkaUserName(principal: KafkaPrincipal): string {
  return `lgsp-${principal}`;
}

export interface KafkaCredentials {
  username: string;
  password: string;
}

function credentialsFor(settings: KafkaSettings, principal: KafkaPrincipal): KafkaCredentials {
  if (settings.kafkaSaslUsername) {
    if (!settings.kafkaSaslPassword) throw new ConfigError('KAFKA_SASL_USERNAME is set but KAFKA_SASL_PASSWORD is not');
    return { username: settings.kafkaSaslUsername, password: settings.kafkaSaslPassword };
  }
  if (settings.kafkaCredentialsDir) {
    const file = join(settings.kafkaCredentialsDir, `${principal}.json`);
    let parsed: Partial<KafkaCredentials>;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<KafkaCredentials>;
    } catch (err) {
      throw new ConfigError(`cannot read the Kafka credentials of ${principal} from ${file}: ${(err as Error).message}`);
    }
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
      throw new ConfigError(`${file} must hold { "username", "password" }`);
    }
    return { username: parsed.username, password: parsed.password };
  }
  throw new ConfigError(
    'Kafka needs credentials: set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_CREDENTIALS_DIR), ' +
      'or LGSP_KAFKA_PLAINTEXT=1 for a plaintext development broker',
  );
}

/** The kafkajs ssl/sasl options of `principal`; nothing at all for an explicitly plaintext broker. */
export function kafkaClientSecurity(settings: KafkaSettings, principal: KafkaPrincipal): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (settings.kafkaPlaintext) return {};
  const { username, password } = credentialsFor(settings, principal);
  let ssl: KafkaConfig['ssl'] = true;
  if (settings.kafkaSslCaFile) {
    try {
      ssl = { ca: [readFileSync(settings.kafkaSslCaFile, 'utf8')] };
    } catch (err) {
      throw new ConfigError(`cannot read KAFKA_SSL_CA_FILE ${settings.kafkaSslCaFile}: ${(err as Error).message}`);
    }
  }
  const sasl: SASLOptions = { mechanism: settings.kafkaSaslMechanism, username, password };
  return { ssl, sasl };
}
