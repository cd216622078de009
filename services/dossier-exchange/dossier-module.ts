// The dossier exchange (one-stop-shop systems <-> the national portal) as a gateway module: it
// adds no routes, only the dossier rules, through the same submission-hook extension point the
// document exchange uses for the document rules.
import type { GatewayModule } from '../platform/gateway-module.js';
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';
import type { SubmissionHook } from '../platform/submission-hooks.js';
import { enforceDossierRules } from './dossier-rules.js';

export const DOSSIER_TYPES = ['dossier.sync', 'dossier.progress', 'dossier.submitted'] as const;

export function dossierSubmissionHook(catalogue: SchemaCatalogue): SubmissionHook {
  return { types: DOSSIER_TYPES, checkPayload: (type, payload) => enforceDossierRules(type, payload, catalogue) };
}

export const dossierExchangeModule: GatewayModule = {
  name: 'dossier-exchange',
  register: async (_app, host) => [dossierSubmissionHook(host.catalogue)],
};
