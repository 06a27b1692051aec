// Write schemas/*.json from the TypeScript schema constants (their one source of truth).
import { writeFileSync } from 'node:fs';
import { configSchema } from '../dist/config/schema.js';

const out = new URL('../schemas/config.schema.json', import.meta.url);
writeFileSync(out, `${JSON.stringify(configSchema, null, 2)}\n`);
