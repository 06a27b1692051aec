/**
 * YAML for files a user names (configurations, .taskcluster.yml, templates). Aliases are
 * refused: an alias repeats a whole subtree, so a few kilobytes of anchors aliasing each other
 * expand into gigabytes once copied (into every task of a graph, say). js-yaml is required on
 * use: only runs that read YAML pay for it.
 */
import { createRequire } from 'node:module';

/** Why a text is not accepted, phrased to follow `<file>: `. */
export class YamlError extends Error {}

export function loadYaml(text: string): unknown {
  const { load } = createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml');
  try {
    return load(text, { maxAliases: 0 });
  } catch (error) {
    const first = (error as Error).message.split('\n')[0] ?? '';
    if (/maxAliases/.test(first)) {
      const at = /\((\d+):(\d+)\)\s*$/.exec(first);
      throw new YamlError(`YAML aliases (*name, and <<: *name merges) are not accepted${at ? ` (the first at line ${at[1]}, column ${at[2]})` : ''}: they repeat whole subtrees and can expand without bound; write the values out`);
    }
    throw new YamlError(`not valid YAML: ${first}`);
  }
}
