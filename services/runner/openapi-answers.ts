// The success answers of the runner's management API as its OpenAPI document describes them: set
// on the document only (platform/openapi-answers.ts), so the routes keep answering exactly what
// runner-service.ts builds (statusOf, descriptionOf). test/openapi-answers.test.ts checks each
// against real answers.
import type { DocumentedAnswers } from '../platform/openapi-answers.js';

const COUNT = { type: 'integer', minimum: 0 };
const NULLABLE_TEXT = { type: ['string', 'null'] };

// Kafka Connect's connector states, upper case; FAILED with the reason in `trace`.
const connectorState = {
  type: 'object',
  additionalProperties: false,
  required: ['state'],
  properties: {
    state: { type: 'string', enum: ['STARTING', 'RUNNING', 'PAUSED', 'FAILED', 'STOPPED'] },
    trace: { type: 'string', description: 'Why the connector failed (FAILED only)' },
  },
};

const stats = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['delivered', 'retried', 'deadLettered', 'rejected', 'duplicates'],
  description: 'Counters since the runner started; null when the connector never ran',
  properties: { delivered: COUNT, retried: COUNT, deadLettered: COUNT, rejected: COUNT, duplicates: COUNT },
};

const openCircuit = {
  type: 'object',
  additionalProperties: false,
  required: ['destination', 'since', 'lastError', 'nextProbeAt'],
  properties: {
    destination: { type: 'string' },
    since: { type: 'string', format: 'date-time' },
    lastError: { type: 'string' },
    nextProbeAt: { type: 'string', format: 'date-time' },
  },
};

const retry = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['parked', 'pausedRetryPartitions', 'openCircuits'],
  description: 'Retries parked in memory, retry partitions paused at the parked cap, destinations held behind a probe; null when the connector never ran',
  properties: {
    parked: { type: 'object', additionalProperties: false, required: ['records', 'bytes'], properties: { records: COUNT, bytes: COUNT } },
    pausedRetryPartitions: COUNT,
    openCircuits: { type: 'array', items: openCircuit },
  },
};

const connectorStatus = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'connector', 'lastError', 'stats', 'retry', 'topics', 'source', 'health', 'codeChanged'],
  properties: {
    name: { type: 'string' },
    connector: connectorState,
    lastError: NULLABLE_TEXT,
    stats,
    retry,
    topics: { type: 'array', items: { type: 'string' }, description: 'The message topics of its services, then its retry topic' },
    source: { type: 'string', description: 'Where its manifest was found' },
    health: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['ok'],
      description: "The connector's own health() answer; null when it has none or is not running",
      properties: { ok: { type: 'boolean' }, detail: { type: 'string' } },
    },
    codeChanged: { ...NULLABLE_TEXT, description: 'Set when the entry file changed after the runner imported it: restart the runner to run the new build' },
  },
};

const connectorDescription = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'source', 'messageTypes', 'services', 'configSchema', 'settings', 'config', 'secrets'],
  properties: {
    name: { type: 'string' },
    description: NULLABLE_TEXT,
    source: { type: 'string' },
    messageTypes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'schema'],
        properties: { type: { type: 'string' }, description: { type: 'string' }, schema: { type: 'string', description: "The gateway's path of its payload schema" } },
      },
    },
    services: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['code', 'provider', 'system'], properties: { code: { type: 'string' }, provider: { type: 'string' }, system: { type: 'string' } } },
    },
    configSchema: { type: ['object', 'null'], description: 'The JSON Schema its configuration is checked against' },
    settings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'type', 'required'],
        properties: { key: { type: 'string' }, type: { type: 'string' }, required: { type: 'boolean' }, default: {}, description: { type: 'string' } },
      },
    },
    config: { type: ['object', 'null'], description: 'Its configuration, secret-looking values shown as "[redacted]"; null when it did not load' },
    secrets: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'optional', 'variable', 'set'],
        properties: { name: { type: 'string' }, description: { type: 'string' }, optional: { type: 'boolean' }, variable: { type: 'string', description: 'The environment variable it is read from' }, set: { type: 'boolean' } },
      },
    },
  },
};

export const runnerAnswers: DocumentedAnswers = {
  'GET /v1/connectors': { 200: { 'application/json': { type: 'array', items: { type: 'string' }, description: 'Names of the hosted connectors, failed ones included' } } },
  'GET /v1/connectors/{name}': { 200: { 'application/json': connectorDescription } },
  'GET /v1/connectors/{name}/status': { 200: { 'application/json': connectorStatus } },
  'POST /v1/connectors/{name}/restart': { 202: { 'application/json': connectorStatus } },
};
