/**
 * Which environment a destination tag belongs to: the tag of one of its targets (or its moving
 * tag) in the repository of a configured script. The registry is not compared, so a mirror or
 * a `--registry` override is held to the same rules as the configured host.
 */
import { expandPattern, type Config, type EnvironmentConfig } from './load.js';

export interface DestinationEnvironment {
  env: string;
  settings: EnvironmentConfig;
  script: string;
}

export function environmentsOfDestination(config: Config, ref: { repository: string; tag?: string }): DestinationEnvironment[] {
  if (ref.tag === undefined) return [];
  const found: DestinationEnvironment[] = [];
  for (const [env, settings] of Object.entries(config.environments)) {
    const tags = [settings.movingTag, ...settings.targets.map((t) => t.tag)];
    const patterns = [settings.source.repository, ...settings.targets.map((t) => t.repository)];
    if (!tags.includes(ref.tag)) continue;
    const script = config.scripts.find((s) => patterns.some((p) => expandPattern(p, s) === ref.repository));
    if (script !== undefined) found.push({ env, settings, script });
  }
  return found;
}
