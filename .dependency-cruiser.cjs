// One-way imports (DESIGN.md §2, "Dependency direction"): schemas ← platform library ← SDK ←
// connectors; services on the platform library (and the SDK where they host connectors).
// `npm run lint` fails on any import that points the wrong way; test/lint-boundaries.test.ts
// proves it does with offending files.
//
// The platform library is services/platform plus the shared libraries that import nothing but
// it: services/edxml (the edXML codec) and services/attachments (the claim-check store).
const PLATFORM = '^services/(platform|edxml|attachments)/';
const SDK = '^(connectors/sdk/|node_modules/@lgsp/sdk/)';
const CONNECTOR = '^connectors/(?!sdk/)[^/]+/';
const SERVICE = '^services/(?!(platform|edxml|attachments)/)[^/]+/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'platform-imports-no-service-or-connector',
      comment: 'The platform library sits under everything else: it imports no service, no connector and not the SDK.',
      severity: 'error',
      from: { path: PLATFORM },
      to: { path: [SERVICE, '^connectors/'] },
    },
    {
      name: 'sdk-on-platform-only',
      comment: 'The SDK is built on the platform library only: never a service, never a connector.',
      severity: 'error',
      from: { path: '^connectors/sdk/' },
      to: { path: [SERVICE, CONNECTOR] },
    },
    {
      name: 'connector-imports-no-service',
      comment: "A connector codes against @lgsp/sdk: never the platform's or a service's internals.",
      severity: 'error',
      from: { path: CONNECTOR },
      to: { path: '^services/' },
    },
    {
      name: 'connector-imports-sdk-by-name',
      comment: 'A connector imports the SDK by its package name (@lgsp/sdk), so it works as its own npm package.',
      severity: 'error',
      from: { path: CONNECTOR },
      to: { path: SDK, dependencyTypesNot: ['aliased-workspace'] },
    },
    {
      name: 'connector-no-kafkajs',
      comment: 'Connectors never talk to Kafka: the runner does, around them.',
      severity: 'error',
      from: { path: ['^connectors/'] },
      to: { path: '(^|/)node_modules/kafkajs/' },
    },
    {
      name: 'connector-no-other-connector',
      comment: 'Connectors are independent: one never imports another.',
      severity: 'error',
      from: { path: '^connectors/(?!sdk/)([^/]+)/' },
      to: { path: '^connectors/(?!sdk/)[^/]+/', pathNot: '^connectors/$1/' },
    },
    {
      name: 'service-no-connector',
      comment: 'Services learn connectors from their manifests (the runner loads them at run time), never by importing connector code.',
      severity: 'error',
      from: { path: SERVICE },
      to: { path: CONNECTOR },
    },
    {
      name: 'gateway-knows-no-domain',
      comment: 'Domain modules (document and dossier exchange) reach the gateway through its composition root, services/composition.',
      severity: 'error',
      from: { path: '^services/gateway/' },
      to: { path: '^services/(document-exchange|dossier-exchange)/' },
    },
    {
      name: 'only-entry-points-compose',
      comment: 'services/composition wires domain modules into a service: only entry points (main.ts), the local stack and tests use it.',
      severity: 'error',
      from: { path: '^services/', pathNot: ['^services/[^/]+/main\\.ts$', '^services/stack/', '^services/composition/'] },
      to: { path: '^services/composition/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // node_modules stays in the graph (as leaves: doNotFollow): excluded, an import of
    // node_modules/kafkajs/… vanished before connector-no-kafkajs could see it.
    exclude: { path: '(^|/)dist/|\\.tap/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.lint.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['types', 'import', 'node', 'default'], mainFields: ['module', 'main', 'types'] },
    combinedDependencies: false,
  },
};
