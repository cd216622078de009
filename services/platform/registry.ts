// The registry: members, their systems (OAuth clients), services and access rights
// (X-Road's member/subsystem/service/ACL model). Access is deny by default: a client may call
// a service only through an explicit access right.
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { SCHEMA_IDS, type SchemaCatalogue } from './schema-catalogue.js';
import { fieldErrors } from './problem-handler.js';
import { privateKeyFields } from './registry-public-keys.js';
import { ConfigError } from './config.js';

export type Role = 'agency' | 'operator' | 'observer';

export interface Member {
  code: string;
  name: string;
  level?: string;
  parent?: string;
}

export interface SystemClient {
  clientId: string;
  member: string;
  name: string;
  /** No token for it, and the tokens it holds are refused (live-registry.ts). */
  disabled?: boolean;
  roles?: Role[];
  auth: { jwks?: { keys: JWK[] }; secretHash?: string; /** Seeds only: npm start issues this system a client secret (dev-credentials.ts). */ devSecret?: true };
  endpoint?: string;
  rateLimitPerMinute?: number;
  /** How document packages reach this system: pushed to its endpoint or pulled from its inbox, as JSON or edXML. */
  documentDelivery?: DocumentDelivery;
}

export interface DocumentDelivery {
  mode: 'push' | 'pull';
  format: 'json' | 'edxml';
  /** Outer form of edXML packages for this system (default: the SDK samples' `sdk`). */
  edxmlShape?: 'sdk' | 'envelope' | 'soap';
}

export interface Service {
  code: string;
  name?: string;
  provider: string;
  system: string;
  connector: string;
  messageTypes: string[];
  endpoint?: string;
  /** Document exchange: XML-DSig results refused for packages to this service. */
  /** `weak`: a signature using SHA-1 (signatureVerification.weakAlgorithms), whatever its result. */
  documentSignatures?: { refuse: ('invalid' | 'untrusted' | 'unsigned' | 'weak')[] };
}

export interface AccessRight {
  client: string;
  service: string;
  provider?: string;
}

export interface RegistryData {
  description?: string;
  members: Member[];
  systems: SystemClient[];
  services: Service[];
  accessRights: AccessRight[];
}

/** The roles a system's tokens carry: its registry roles, `agency` when it lists none. */
export function rolesOf(system: SystemClient): Role[] {
  return system.roles && system.roles.length > 0 ? system.roles : ['agency'];
}

/** A registry file that cannot be used; at a service's start, a configuration error (service-main.ts). */
export class RegistryError extends ConfigError {
  override name = 'RegistryError';
}

export class Registry {
  private readonly membersByCode = new Map<string, Member>();
  private readonly systemsById = new Map<string, SystemClient>();

  constructor(readonly data: RegistryData) {
    for (const m of data.members) this.membersByCode.set(m.code, m);
    for (const s of data.systems) this.systemsById.set(s.clientId, s);
    this.checkReferences();
  }

  static load(file: string, catalogue: SchemaCatalogue): Registry {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RegistryError(`cannot read registry ${file}: ${(err as Error).message}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      // Where, never what: V8 quotes the text around the error, which may be a key or a secret hash.
      const at = /at position \d+( \(line \d+ column \d+\))?/.exec((err as Error).message)?.[0];
      throw new RegistryError(`cannot read registry ${file}: not valid JSON${at ? ` (${at})` : ''}`);
    }
    return Registry.fromData(data, catalogue);
  }

  static fromData(data: unknown, catalogue: SchemaCatalogue): Registry {
    const validate = catalogue.validator(SCHEMA_IDS.registry);
    const errs = validate(data) ? [] : fieldErrors(validate.errors ?? [], '', data);
    // Checked whatever else is wrong: the operator learns of a pasted private key at once.
    for (const field of privateKeyFields(data)) errs.push({ field, message: 'is private key material: a registry holds public keys only (remove it, and replace the key: it has been shared)' });
    if (errs.length > 0) throw new RegistryError(`invalid registry: ${errs.map((e) => `${e.field} ${e.message}`).join('; ')}`);
    return new Registry(data as RegistryData);
  }

  private checkReferences(): void {
    const problems: string[] = [];
    // One entry each: a second one (a system copied under the member it moves to, the first left
    // behind) silently decided which member, keys and `disabled` applied.
    const twice = (ids: string[]) => [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    for (const code of twice(this.data.members.map((m) => m.code))) problems.push(`member ${code} is listed twice`);
    for (const id of twice(this.data.systems.map((s) => s.clientId))) {
      problems.push(`system ${id} is listed twice (under ${this.data.systems.filter((s) => s.clientId === id).map((s) => s.member).join(' and ')}): keep one entry`);
    }
    for (const s of this.data.systems) if (!this.membersByCode.has(s.member)) problems.push(`system ${s.clientId}: unknown member ${s.member}`);
    const serviceKeys = new Set<string>();
    for (const svc of this.data.services) {
      // Two entries for one (provider, code) would make every send to it ambiguous, even one naming to.service.
      const key = `${svc.provider}\u0000${svc.code}`;
      if (serviceKeys.has(key)) problems.push(`service ${svc.code}: provider ${svc.provider} lists it twice (merge the entries: one service, several messageTypes)`);
      serviceKeys.add(key);
      if (!this.membersByCode.has(svc.provider)) problems.push(`service ${svc.code}: unknown provider ${svc.provider}`);
      const sys = this.systemsById.get(svc.system);
      if (!sys) problems.push(`service ${svc.code}: unknown system ${svc.system}`);
      else if (sys.member !== svc.provider) problems.push(`service ${svc.code}: system ${svc.system} does not belong to ${svc.provider}`);
    }
    for (const ar of this.data.accessRights) {
      if (!this.systemsById.has(ar.client)) problems.push(`access right: unknown client ${ar.client}`);
      if (!this.data.services.some((s) => s.code === ar.service)) problems.push(`access right: unknown service ${ar.service}`);
    }
    if (problems.length > 0) throw new RegistryError(`inconsistent registry: ${problems.join('; ')}`);
  }

  member(code: string): Member | undefined {
    return this.membersByCode.get(code);
  }

  system(clientId: string): SystemClient | undefined {
    return this.systemsById.get(clientId);
  }

  get members(): Member[] {
    return this.data.members;
  }

  get services(): Service[] {
    return this.data.services;
  }

  /** Services provided by a member, optionally narrowed to a code. */
  servicesOf(member: string, code?: string): Service[] {
    return this.data.services.filter((s) => s.provider === member && (code === undefined || s.code === code));
  }

  isAllowed(clientId: string, service: Service): boolean {
    return this.data.accessRights.some(
      (ar) => ar.client === clientId && ar.service === service.code && (ar.provider === undefined || ar.provider === service.provider),
    );
  }

  /** X-Road allowedMethods: the service offerings this client may call. */
  allowedServices(clientId: string): Service[] {
    return this.data.services.filter((s) => this.isAllowed(clientId, s));
  }

  /** Codes of the services a connector delivers (the runner subscribes to their topics). */
  serviceCodesFor(connector: string): string[] {
    return [...new Set(this.data.services.filter((s) => s.connector === connector).map((s) => s.code))];
  }

  endpointOf(service: Service): string | undefined {
    return service.endpoint ?? this.systemsById.get(service.system)?.endpoint;
  }
}
