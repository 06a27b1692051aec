/**
 * Load and validate a configuration: the embedded scriptworker-scripts default, or a YAML
 * file. Every error names the file, the path inside it and the offending value.
 */
import { fileURLToPath } from 'node:url';
import { UsageError, quote } from '../errors.js';
import { fs } from '../util/builtins.js';
import { validatorFor } from '../util/precompiled.js';
import { readInputFile } from '../util/read-file.js';
import { loadYaml } from '../util/yaml.js';
import { describeSchemaErrors, type compileSchema } from '../util/validate.js';
import { configSchema, type Config, type EnvironmentConfig, type TargetConfig } from './schema.js';
import { didYouMean } from '../util/suggest.js';

const { readFileSync } = fs;

export type { Config, EnvironmentConfig, TargetConfig };

export const defaultConfigPath = fileURLToPath(new URL('../../config/scriptworker-scripts.yml', import.meta.url));
/** The build writes the embedded default as JSON beside this module, sparing js-yaml at start-up. */
const prebuiltDefaultPath = fileURLToPath(new URL('./default-config.json', import.meta.url));

// Compiled on first use: commands that never read a configuration do not pay for it.
let validateConfig: ReturnType<typeof compileSchema<Config>> | undefined;

export function loadConfig(file?: string): Config {
  if (file === undefined) {
    let prebuilt: string | undefined;
    try {
      prebuilt = readFileSync(prebuiltDefaultPath, 'utf8');
    } catch {
      // running from src/: parse the YAML
    }
    if (prebuilt !== undefined) return validateConfigData(JSON.parse(prebuilt) as unknown, defaultConfigPath);
  }
  const path = file ?? defaultConfigPath;
  return parseConfig(readInputFile(path, '--config', 1024 * 1024), path);
}

export function parseConfig(text: string, source: string): Config {
  let data: unknown;
  try {
    data = loadYaml(text);
  } catch (error) {
    throw new UsageError(`${source}: ${(error as Error).message}`);
  }
  return validateConfigData(data, source);
}

function validateConfigData(data: unknown, source: string): Config {
  validateConfig ??= validatorFor<Config>('config', configSchema);
  if (!validateConfig(data)) {
    throw new UsageError(describeSchemaErrors(source, validateConfig.errors, data));
  }
  checkPatterns(data, source);
  return data;
}

/** Rules a JSON schema cannot say: patterns must name {script} where one repository per script is meant. */
function checkPatterns(config: Config, source: string): void {
  for (const [env, settings] of Object.entries(config.environments)) {
    const where = `${source}: /environments/${env}`;
    if (!settings.deployBranch.includes('{script}')) {
      throw new UsageError(`${where}/deployBranch: ${quote(settings.deployBranch)} must contain {script}`);
    }
    if (settings.deployBranch === config.github.defaultBranch || settings.sharedBranch === config.github.defaultBranch) {
      throw new UsageError(`${where}: a deploy branch may not be the default branch ${quote(config.github.defaultBranch)}`);
    }
    for (const [field, pattern] of [
      ['source/repository', settings.source.repository],
      ...settings.targets.map((t, i) => [`targets/${i}/repository`, t.repository] as const),
    ] as const) {
      const unknown = pattern.match(/\{(?!script\})[^}]*\}/);
      if (unknown) throw new UsageError(`${where}/${field}: unknown placeholder ${quote(unknown[0])} in ${quote(pattern)}`);
    }
  }
}

export function expandPattern(pattern: string, script: string): string {
  return pattern.replaceAll('{script}', script);
}

export function requireScript(config: Config, script: string | undefined, field = 'script'): string {
  if (script === undefined || script === '') throw new UsageError(`${field}: missing; one of ${config.scripts.join(', ')}`);
  if (!config.scripts.includes(script)) {
    throw new UsageError(`${field}: unknown script ${quote(script)}${didYouMean(script, config.scripts)}; configured scripts: ${config.scripts.join(', ')}`);
  }
  return script;
}

export function requireEnvironment(config: Config, env: string | undefined, field = '--env'): [string, EnvironmentConfig] {
  const name = env ?? 'production';
  const settings = config.environments[name];
  if (!settings || !Object.hasOwn(config.environments, name)) {
    throw new UsageError(`${field}: unknown environment ${quote(name)}${didYouMean(name, Object.keys(config.environments))}; configured: ${Object.keys(config.environments).join(', ')}`);
  }
  return [name, settings];
}
