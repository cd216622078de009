// A connector's configuration documented from its configSchema: one row per setting (nested
// objects flattened to dotted keys) with type, whether it is required, its default and its
// description. The runner serves it at GET /v1/connectors/<name>; `lgsp connector describe`
// prints it as a table; the scaffolded README starts from it. One source, so it cannot drift.

export interface ConfigSetting {
  key: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

type Schema = Record<string, unknown>;

function typeOf(schema: Schema): string {
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if ('const' in schema) return `= ${JSON.stringify(schema.const)}`;
  const base = Array.isArray(schema.type) ? schema.type.join(' | ') : typeof schema.type === 'string' ? schema.type : 'any';
  const bounds: string[] = [];
  if (typeof schema.minimum === 'number') bounds.push(`≥ ${schema.minimum}`);
  if (typeof schema.maximum === 'number') bounds.push(`≤ ${schema.maximum}`);
  if (typeof schema.pattern === 'string') bounds.push(`pattern ${schema.pattern}`);
  if (typeof schema.format === 'string') bounds.push(`format ${schema.format}`);
  if (base === 'array' && schema.items && typeof schema.items === 'object') return `array of ${typeOf(schema.items as Schema)}`;
  return bounds.length ? `${base} (${bounds.join(', ')})` : base;
}

export function describeConfig(schema: Schema | undefined, prefix = ''): ConfigSetting[] {
  if (!schema || typeof schema.properties !== 'object' || schema.properties === null) return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const rows: ConfigSetting[] = [];
  for (const [key, raw] of Object.entries(schema.properties as Record<string, Schema>)) {
    const full = prefix ? `${prefix}.${key}` : key;
    rows.push({
      key: full,
      type: typeOf(raw),
      required: required.has(key),
      ...(raw.default !== undefined ? { default: raw.default } : {}),
      ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    });
    if (raw.type === 'object') rows.push(...describeConfig(raw, full));
  }
  return rows;
}

/** The settings as a Markdown table (for a README or a terminal). */
export function configMarkdown(schema: Schema | undefined): string {
  const rows = describeConfig(schema);
  if (rows.length === 0) return '_This connector takes no configuration._\n';
  const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| setting | type | required | default | description |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| \`${r.key}\` | ${cell(r.type)} | ${r.required ? 'yes' : 'no'} | ${r.default === undefined ? '' : cell('`' + JSON.stringify(r.default) + '`')} | ${cell(r.description ?? '')} |`),
  ].join('\n') + '\n';
}
