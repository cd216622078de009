// `lgsp connector new|list|describe`: the integrator's commands. `new` scaffolds a connector
// (connector-scaffold.ts); `list` shows what the runner would load, broken connectors included
// with the reason (every check but start()); `describe` loads one connector like the runner
// does and prints its message types, configuration settings (from its configSchema) and secrets.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig, stackConnectorsConfigFile } from '../platform/config.js';
import { SchemaCatalogue } from '../platform/schema-catalogue.js';
import { configMarkdown } from '@lgsp/sdk/config-reference';
import { secretEnvName } from '@lgsp/sdk/secrets';
import { ConnectorLoadError, connectorsConfigFile, entryPath, loadConnector } from '../runner/connector-loader.js';
import { provideSdkToConnectors } from '../runner/sdk-resolution.js';
import { ScaffoldError, scaffoldConnector } from './connector-scaffold.js';
import { parseCommandArgs, UsageError } from './cli-args.js';

export const CONNECTOR_USAGE = `usage:
  lgsp connector new <name> [--type <message.type>] [--root <dir>]
                             scaffold connectors/<name>/ (manifest, module, schema with an example,
                             README) and its tests test/<name>.test.ts, test/<name>-bus.test.ts
  lgsp connector list        connectors found in connectors/, LGSP_CONNECTOR_DIRS, LGSP_CONNECTOR_PACKAGES
  lgsp connector describe <name>
                             message types, configuration settings and secrets of a built connector
`;

/** The project `lgsp` is run in: the nearest directory upwards with a connectors/ folder. */
function projectOf(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'connectors')) && existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return undefined;
  }
}

export async function runConnectorCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'new': {
      let name: string | undefined;
      let values: { type?: string; root?: string };
      try {
        const parsed = parseCommandArgs(rest, { type: { type: 'string' }, root: { type: 'string' } });
        [name] = parsed.positionals;
        values = parsed.values;
        if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument: ${parsed.positionals[1]}`);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        process.stderr.write(`lgsp connector new: ${err.message}\n${CONNECTOR_USAGE}`);
        return 2;
      }
      if (!name) return missingName(sub);
      try {
        // Scaffold into the project the command is run in (`npx lgsp …` from its root).
        const result = scaffoldConnector({ name, messageType: values.type, root: values.root ?? projectOf(process.cwd()) });
        const shown = (f: string) => relative(process.cwd(), f) || f;
        process.stdout.write(`created connector ${name} (message type ${result.messageType}):\n${result.files.map((f) => `  ${shown(f)}`).join('\n')}\n\n` +
          `next: adapt ${shown(join(result.connectorDir, 'index.ts'))} and the schema, then\n` +
          // The bus test needs a broker and PostgreSQL: under a bare `npx tap` it stops at once
          // ("DATABASE_URL is not set"); `npm test -- <file>` starts both for it.
          `  npm run build && npx tap test/${name}.test.ts      (unit test, no Kafka)\n` +
          `  npm test -- test/${name}-bus.test.ts      (integration: starts its own Kafka and PostgreSQL)\n` +
          `and register a service for it (docs/write-a-connector.md, step 5).\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof ScaffoldError)) throw err;
        process.stderr.write(`lgsp connector new: ${err.message}\n`);
        return 1;
      }
    }
    case 'list': {
      // What the runner checks before start(): manifest, schemas and examples, type ownership,
      // entry built, module imports and names itself, configuration valid, secrets present (in
      // this shell's environment). start() itself needs the target system and is not run.
      const config = loadConfig();
      const catalogue = new SchemaCatalogue().loadConnectors(config);
      let failures = catalogue.failedManifests.length;
      let connectorConfig: Record<string, unknown> | undefined;
      // The file the runner is given: LGSP_CONNECTORS_CONFIG, or the one `npm start` writes.
      const stackFile = stackConnectorsConfigFile(config.dataDir);
      try {
        connectorConfig = connectorsConfigFile(process.env.LGSP_CONNECTORS_CONFIG ?? (existsSync(stackFile) ? stackFile : undefined));
      } catch (err) {
        process.stderr.write(`lgsp connector list: ${(err as Error).message}\n`);
        return 1;
      }
      for (const m of catalogue.manifests) {
        const ok = (note = '') => `${m.name.padEnd(24)} ok      ${m.messageTypes.map((mt) => mt.type).join(', ')}  (${m.source ?? join(catalogue.root, 'connectors')}${note})\n`;
        try {
          await loadConnector(catalogue.root, m, connectorConfig?.[m.name]);
          process.stdout.write(ok());
        } catch (err) {
          const unset = err instanceof ConnectorLoadError ? err.missingSecretVariables : undefined;
          // No configuration file here at all (a checkout where `npm start` never ran): what a
          // connector's configuration lacks is a reminder, as for secrets, not a failure.
          const unconfigured = connectorConfig === undefined && err instanceof ConnectorLoadError && err.configurationInvalid;
          // This shell is rarely the runner's environment: an unset secret is a reminder, not a failure.
          if (unset) process.stdout.write(ok(`; the runner needs ${unset.join(', ')}, not set here`));
          else if (unconfigured) process.stdout.write(ok(`; not configured here (no LGSP_CONNECTORS_CONFIG, and npm start has not written ${stackFile}): ${(err as Error).message}`));
          else {
            failures++;
            process.stdout.write(`${m.name.padEnd(24)} FAILED  ${(err as Error).message}\n`);
          }
        }
      }
      for (const f of catalogue.failedManifests) process.stdout.write(`${f.name.padEnd(24)} FAILED  ${f.error}\n`);
      // An entry under a name no connector has (a misspelt "weather-alrt") is never read: the
      // connector it was meant for runs on its defaults without a word. Said here; not a
      // failure, as a configuration shared by runners that host other connectors may hold one.
      const known = new Set([...catalogue.manifests.map((m) => m.name), ...catalogue.failedManifests.map((f) => f.name)]);
      const entries = connectorConfig !== null && typeof connectorConfig === 'object' && !Array.isArray(connectorConfig) ? Object.keys(connectorConfig) : [];
      for (const name of entries.filter((n) => !known.has(n))) {
        process.stdout.write(`${name.padEnd(24)} UNKNOWN the configuration has an entry "${name}", which no connector.json declares (misspelt? the known ones are listed above): the runner ignores it\n`);
      }
      return failures > 0 ? 1 : 0;
    }
    case 'describe': {
      const name = rest[0];
      if (!name) return missingName(sub);
      const catalogue = new SchemaCatalogue().loadConnectors(loadConfig());
      const failed = catalogue.failedManifests.find((f) => f.name === name);
      if (failed) {
        process.stderr.write(`connector ${name} cannot be loaded: ${failed.error}\n`);
        return 1;
      }
      const manifest = catalogue.manifests.find((m) => m.name === name);
      if (!manifest) {
        process.stderr.write(`no connector ${name} (lgsp connector list shows what there is)\n`);
        return 1;
      }
      const file = entryPath(manifest.baseDir ?? catalogue.root, manifest.entry);
      let definition;
      try {
        // As the runner does: a connector outside the tree gets the bus's @lgsp/sdk.
        provideSdkToConnectors();
        definition = ((await import(pathToFileURL(file).href)) as { default?: { description?: string; configSchema?: Record<string, unknown>; secrets?: Record<string, { description?: string; optional?: boolean }> } }).default;
      } catch (err) {
        process.stderr.write(`connector ${name}: cannot import ${file} (${(err as Error).message}); was it built? npm run build\n`);
        return 1;
      }
      const out = [`# ${name}`, '', definition?.description ?? manifest.description ?? '', '', '## Message types', ''];
      for (const mt of manifest.messageTypes) out.push(`- \`${mt.type}\`${mt.description ? ` — ${mt.description}` : ''} (schema ${mt.schema}; GET /v1/schemas/${mt.type})`);
      out.push('', '## Configuration', '', configMarkdown(definition?.configSchema).trimEnd(), '', '## Secrets', '');
      const secrets = Object.entries(definition?.secrets ?? {});
      if (secrets.length === 0) out.push('_None._');
      for (const [secret, d] of secrets) out.push(`- \`${secret}\`${d.optional ? ' (optional)' : ''}: ${d.description ?? ''} — set ${secretEnvName(name, secret)} or ${secretEnvName(name, secret)}_FILE`);
      process.stdout.write(out.join('\n') + '\n');
      return 0;
    }
  }
  // Name what was not understood: a bare usage after `lgsp connector lst` left the typo to be found.
  process.stderr.write(`${sub === undefined ? '' : `lgsp connector: unknown subcommand "${sub}" (new, list or describe)\n`}${CONNECTOR_USAGE}`);
  return 2;
}

/** `new` or `describe` without a name: said as what it is (it read 'unknown subcommand "new"', the switch falling through). */
function missingName(sub: string): number {
  process.stderr.write(`lgsp connector ${sub}: the connector name is missing\n${CONNECTOR_USAGE}`);
  return 2;
}
