// The database roles of the bus, one per service that keeps state in PostgreSQL (what each may
// touch: migrations/20261201002000_platform-service-roles.sql). A deployment gives each service
// a login that is a member of its role; with a single DATABASE_URL every service shares one
// login (the owner's), which is simpler and still works.
export const DATABASE_SERVICES = ['gateway', 'runner', 'audit', 'console', 'portal'] as const;
export type DatabaseService = (typeof DATABASE_SERVICES)[number];

/** The NOLOGIN group role of a service, as the migration creates and grants it. */
export function databaseRoleName(service: DatabaseService): string {
  return `lgsp_${service}`;
}
