/**
 * The json-e templates under `taskcluster/`, one per task kind, and rendering them. Errors
 * name the template file, the location inside it and json-e's message.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsone from 'json-e';
import { UsageError } from '../errors.js';
import { fs } from '../util/builtins.js';
import { sha256Hex } from '../util/sha256.js';
import { loadYaml } from '../util/yaml.js';
import type { TaskKind } from './context.js';

const { readFileSync } = fs;

export const defaultTemplatesDir = fileURLToPath(new URL('../../taskcluster/', import.meta.url));

export function templateFile(templatesDir: string, kind: TaskKind): string {
  return path.join(templatesDir, `${kind}.yml`);
}

/** A template failed to load or render; `problems` are lines for `validate`. */
export class TemplateError extends UsageError {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

const cache = new Map<string, unknown>();

/**
 * The build parses the installed templates once and writes them beside this module as JSON,
 * keyed by the sha256 of their YAML text: a template edited since is parsed again, so the
 * shortcut can never serve stale content. It spares js-yaml at start-up.
 */
let prebuilt: Record<string, unknown> | null | undefined;
export const prebuiltTemplatesFile = fileURLToPath(new URL('./templates.json', import.meta.url));

function parseTemplateText(text: string): unknown {
  if (prebuilt === undefined) {
    try {
      prebuilt = JSON.parse(readFileSync(prebuiltTemplatesFile, 'utf8')) as Record<string, unknown>;
    } catch {
      prebuilt = null;
    }
  }
  const hit = prebuilt?.[templateTextHash(text)];
  if (hit !== undefined) return structuredClone(hit);
  return loadYaml(text);
}

export function templateTextHash(text: string): string {
  return sha256Hex(text);
}

export function loadTemplate(templatesDir: string, kind: TaskKind): unknown {
  const file = templateFile(templatesDir, kind);
  if (cache.has(file)) return cache.get(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TemplateError(displayPath(file), `cannot read the ${kind} template: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let template: unknown;
  try {
    template = parseTemplateText(text);
  } catch (error) {
    throw new TemplateError(displayPath(file), (error as Error).message);
  }
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw new TemplateError(displayPath(file), 'a task template must be a YAML mapping');
  }
  cache.set(file, template);
  return template;
}

/** Forget loaded templates (tests edit template copies between renders). */
export function clearTemplateCache(): void {
  cache.clear();
}

/** Render a template with json-e; errors carry the file and json-e's location (`template.payload.command`). */
export function renderTemplate(template: unknown, context: object, file: string): unknown {
  try {
    return jsone(template as Record<string, unknown>, context as Record<string, unknown>);
  } catch (error) {
    const e = error as Error & { location?: unknown[] };
    const where = Array.isArray(e.location) && e.location.length ? `template${e.location.join('')}` : 'template';
    throw new TemplateError(displayPath(file), `${where}: ${e.name ?? 'Error'}: ${e.message}`);
  }
}

/** Paths inside the working directory print relative, others as given. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
