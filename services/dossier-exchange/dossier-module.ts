// The dossier exchange (one-stop-shop systems <-> the national portal) as a gateway module: it
// adds no routes, only the dossier rules, through the same submission-hook extension point the
// document exchange uses for the document rules.
import type { GatewayModule } from '../platform/gateway-module.js';
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';
import type { FanOutSubmission, SubmissionHook } from '../platform/submission-hooks.js';
import { enforceDossierRules } from './dossier-rules.js';

export const DOSSIER_TYPES = ['dossier.sync', 'dossier.progress', 'dossier.submitted'] as const;

export function dossierSubmissionHook(catalogue: SchemaCatalogue): SubmissionHook {
  return { types: DOSSIER_TYPES, checkPayload: (type, payload) => enforceDossierRules(type, payload, catalogue), prepare: async (body) => withDossierCorrelation(body) };
}

/**
 * A dossier message sent without a correlationId got the gateway's default, its own message id:
 * each message of the dossier then had a key of its own, so a progress step lost its order behind
 * the sync (Kafka keys by recipient and correlation id), its wait for "an earlier message of the
 * dossier" found none, the console's trace listed no thread and the KPIs counted every message
 * as a dossier. The guide's rule is correlationId = the dossier code: absent, it is that. One the
 * system sends is kept as sent.
 */
export function withDossierCorrelation(body: FanOutSubmission): FanOutSubmission {
  const code = (body.payload as { dossierCode?: unknown } | undefined)?.dossierCode;
  if (body.correlationId !== undefined || typeof code !== 'string' || code === '') return body;
  return { ...body, correlationId: code };
}

export const dossierExchangeModule: GatewayModule = {
  name: 'dossier-exchange',
  register: async (_app, host) => [dossierSubmissionHook(host.catalogue)],
};
