// Write schemas/*.json from the TypeScript schema constants (their one source of truth), and
// the precompiled validators dist/validators/*.cjs (ajv standalone code) that the CLI loads
// instead of compiling the schemas at every start (see src/util/precompiled.ts).
// Run after the build: node scripts/write-schemas.js (npm run build does both).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { configSchema } from '../dist/config/schema.js';
import { actionsFileSchema } from '../dist/taskcluster-api/actions-schema.js';
import { taskDefinitionSchema } from '../dist/taskcluster-api/task-schema.js';
import { schemaHash } from '../dist/util/precompiled.js';

const schemas = {
  config: configSchema,
  task: taskDefinitionSchema,
  actions: actionsFileSchema,
};
const toCode = standalone.default ?? standalone;
mkdirSync(new URL('../dist/validators/', import.meta.url), { recursive: true });
for (const [name, schema] of Object.entries(schemas)) {
  writeFileSync(new URL(`../schemas/${name}.schema.json`, import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
  // The same options as src/util/validate.ts, so errors read the same.
  const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true, esm: false } });
  const code = toCode(ajv, ajv.compile(schema));
  writeFileSync(new URL(`../dist/validators/${name}.cjs`, import.meta.url), `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(schema))};\n`);
}

// The embedded default configuration as JSON beside dist/config/load.js (no YAML parser at start-up).
const defaultConfig = load(readFileSync(new URL('../config/scriptworker-scripts.yml', import.meta.url), 'utf8'));
writeFileSync(new URL('../dist/config/default-config.json', import.meta.url), `${JSON.stringify(defaultConfig)}\n`);

// The installed task templates, parsed once, keyed by the sha256 of their text (src/graph/templates.ts).
const templatesDir = new URL('../taskcluster/', import.meta.url);
const templates = {};
for (const name of readdirSync(templatesDir).filter((f) => f.endsWith('.yml'))) {
  const text = readFileSync(new URL(name, templatesDir), 'utf8');
  templates[createHash('sha256').update(text).digest('hex')] = load(text);
}
writeFileSync(new URL('../dist/graph/templates.json', import.meta.url), `${JSON.stringify(templates)}\n`);

// Every command's help text beside dist/cli/main.js (scripts/write-help.js).
await import('./write-help.js');
