// TLS and SCRAM material of the local broker, made at its first start and kept with its data
// (never in git): a CA of its own, the broker's certificate (signed by that CA, valid for
// 127.0.0.1 and localhost, usable as server and as client for the brokers' own mutual-TLS
// listeners), and one SCRAM password per principal of the bus (kafka-security.ts). Clients get
// the CA certificate and a credentials directory with one `<principal>.json` each; the CA's
// private key is deleted once the broker certificate is signed.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KAFKA_PRINCIPALS, kafkaUserName, type KafkaCredentials, type KafkaPrincipal } from '../platform/kafka-security.js';
import { openssl } from '../local-processes/openssl.js';

/** Subject of the broker certificate; as a mutual-TLS principal it is a super user (the brokers themselves). */
export const BROKER_PRINCIPAL = 'CN=lgsp-kafka-broker';

export interface BrokerSecurity {
  dir: string;
  /** PEM of the CA that signed the broker certificate: KAFKA_SSL_CA_FILE for clients. */
  caFile: string;
  /** PKCS#12 keystore with the broker's key and certificate. */
  keystoreFile: string;
  keystorePassword: string;
  /** `<principal>.json` per principal: KAFKA_CREDENTIALS_DIR for clients. */
  credentialsDir: string;
  credentials: Record<KafkaPrincipal, KafkaCredentials>;
}

async function writeSecret(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
}

async function makeCertificates(dir: string, keystorePassword: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=LGSP local Kafka CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['req', ...ec, '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', `/${BROKER_PRINCIPAL}`], dir);
  await writeFile(path.join(dir, 'broker.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n');
  await openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '825', '-extfile', 'broker.ext'], dir);
  await openssl(['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-name', 'broker',
    '-out', 'broker.p12', '-passout', `pass:${keystorePassword}`], dir);
  await chmod(path.join(dir, 'broker.p12'), 0o600);
  // Nothing needs to sign again: a new certificate means a new security dir.
  for (const f of ['ca.key', 'broker.key', 'broker.csr', 'broker.ext', 'ca.srl']) await rm(path.join(dir, f), { force: true });
}

/** The security material under `<dataDir>/security`, made now if it does not exist yet. */
export async function ensureBrokerSecurity(dataDir: string): Promise<BrokerSecurity & { created: boolean }> {
  const dir = path.join(dataDir, 'security');
  const credentialsDir = path.join(dir, 'credentials');
  const brokerFile = path.join(dir, 'broker.json');
  const created = !existsSync(brokerFile);
  if (created) {
    await rm(dir, { recursive: true, force: true }); // a half-made dir from an interrupted start
    await mkdir(credentialsDir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const keystorePassword = randomBytes(24).toString('hex');
    await makeCertificates(dir, keystorePassword);
    for (const principal of KAFKA_PRINCIPALS) {
      const creds: KafkaCredentials = { username: kafkaUserName(principal), password: randomBytes(24).toString('hex') };
      await writeSecret(path.join(credentialsDir, `${principal}.json`), JSON.stringify(creds, null, 2) + '\n');
    }
    // Written last: its presence means the rest is complete.
    await writeSecret(brokerFile, JSON.stringify({ keystorePassword }, null, 2) + '\n');
  }
  const { keystorePassword } = JSON.parse(await readFile(brokerFile, 'utf8')) as { keystorePassword: string };
  const credentials = {} as Record<KafkaPrincipal, KafkaCredentials>;
  for (const principal of KAFKA_PRINCIPALS) {
    credentials[principal] = JSON.parse(await readFile(path.join(credentialsDir, `${principal}.json`), 'utf8')) as KafkaCredentials;
  }
  return { dir, caFile: path.join(dir, 'ca.pem'), keystoreFile: path.join(dir, 'broker.p12'), keystorePassword, credentialsDir, credentials, created };
}

/** `--add-scram` arguments for kafka-storage format: the SCRAM users exist from the first start. */
export function scramFormatArgs(security: BrokerSecurity): string[] {
  return KAFKA_PRINCIPALS.flatMap((p) => ['--add-scram', `SCRAM-SHA-512=[name=${security.credentials[p].username},password=${security.credentials[p].password}]`]);
}

/** The broker's security settings (appended to server.properties; the file is mode 0600). */
export function securedListenerProperties(security: BrokerSecurity): string[] {
  const admin = security.credentials.admin.username;
  return [
    // Clients: TLS + SCRAM. Between brokers and to the controllers: mutual TLS with the broker certificate.
    'listener.security.protocol.map=CLIENTS:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL',
    'inter.broker.listener.name=INTERNAL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'listener.name.clients.sasl.enabled.mechanisms=SCRAM-SHA-512',
    'listener.name.clients.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.internal.ssl.client.auth=required',
    'listener.name.controller.ssl.client.auth=required',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${security.keystoreFile}`,
    `ssl.keystore.password=${security.keystorePassword}`,
    `ssl.key.password=${security.keystorePassword}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${security.caFile}`,
    'ssl.enabled.protocols=TLSv1.3,TLSv1.2',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    // The brokers (mutual TLS) and the setup principal; services get ACLs (platform/kafka-acls.ts).
    `super.users=User:${BROKER_PRINCIPAL};User:${admin}`,
  ];
}
