/** `tc-promote completion bash|zsh`: a completion script for commands, flags, scripts and environments. */
import { loadConfig } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { globalHelp, parseCommandArgs, type CommandContext, type CommandTable, type Io } from './common.js';
import { flagsOf } from './help-flags.js';

export const help = `Usage: tc-promote completion bash|zsh [--config FILE]

Prints a completion script: commands, each command's flags, the configured scripts (after a
command that takes one, and after --script) and environments (after --env and --from-env),
routes after --route, formats after --format, files after --config and the other file flags.
The scripts and environments are those of the configuration (--config, default the embedded
one) at the time the script is written: write it again after changing them.

Examples:
  source <(tc-promote completion bash)                       # this shell
  tc-promote completion bash > ~/.local/share/bash-completion/completions/tc-promote
  tc-promote completion zsh > "\${fpath[1]}/_tc-promote"      # then: autoload -U compinit && compinit

${globalHelp}`;

/** Commands that take a script as their argument. */
const takesScript = ['history', 'plan', 'render', 'submit', 'rollback', 'promote', 'follow', 'cancel', 'hold', 'release'];
const fileFlags = ['--config', '--output', '--merge', '--templates', '--taskcluster-yml', '--check', '--input'];

interface Words {
  commands: { name: string; summary: string; flags: string[] }[];
  scripts: string[];
  envs: string[];
}

async function collect(commands: CommandTable, configPath: string | undefined): Promise<Words> {
  const config = loadConfig(configPath);
  const list = await Promise.all(
    Object.entries(commands).map(async ([name, entry]) => ({ name, summary: entry.summary, flags: [...flagsOf((await entry.load()).help), '--help'].filter((f, i, all) => all.indexOf(f) === i) })),
  );
  return { commands: list, scripts: config.scripts, envs: Object.keys(config.environments) };
}

const words = (list: readonly string[]): string => list.join(' ');

export function bashScript(w: Words): string {
  const cases = w.commands.map((c) => `    ${c.name}) flags=${JSON.stringify(words(c.flags))} ;;`).join('\n');
  return `# tc-promote completion for bash: source <(tc-promote completion bash)
_tc_promote() {
  local cur prev cmd flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  COMPREPLY=()
  if [[ \${COMP_CWORD} -eq 1 ]]; then
    COMPREPLY=($(compgen -W ${JSON.stringify(`${words(w.commands.map((c) => c.name))} --help --version`)} -- "$cur"))
    return 0
  fi
  case "$prev" in
    --env|--from-env) COMPREPLY=($(compgen -W ${JSON.stringify(words(w.envs))} -- "$cur")); return 0 ;;
    --script) COMPREPLY=($(compgen -W ${JSON.stringify(words(w.scripts))} -- "$cur")); return 0 ;;
    --route) COMPREPLY=($(compgen -W "retag rebuild rerun" -- "$cur")); return 0 ;;
    --format) COMPREPLY=($(compgen -W "json yaml dot mermaid" -- "$cur")); return 0 ;;
    ${fileFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
  esac
  case "$cmd" in
${cases}
    *) flags="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  fi
  case "$cmd" in
    ${takesScript.join('|')}) COMPREPLY=($(compgen -W ${JSON.stringify(words(w.scripts))} -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
  esac
  return 0
}
complete -F _tc_promote tc-promote tc-promote.js
`;
}

/** A zsh single-quoted word. */
const zq = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export function zshScript(w: Words): string {
  const described = w.commands.map((c) => zq(`${c.name}:${c.summary.replace(/:/g, '\\:')}`)).join(' ');
  const cases = w.commands.map((c) => `    ${c.name}) compadd -- ${c.flags.map(zq).join(' ')} ;;`).join('\n');
  return `#compdef tc-promote tc-promote.js
# tc-promote completion for zsh: tc-promote completion zsh > "\${fpath[1]}/_tc-promote"
_tc_promote() {
  local -a commands
  commands=(${described})
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    compadd -- --help --version
    return
  fi
  local cmd=\${words[2]}
  case \${words[CURRENT-1]} in
    --env|--from-env) compadd -- ${w.envs.map(zq).join(' ')}; return ;;
    --script) compadd -- ${w.scripts.map(zq).join(' ')}; return ;;
    --route) compadd -- retag rebuild rerun; return ;;
    --format) compadd -- json yaml dot mermaid; return ;;
    ${fileFlags.join('|')}) _files; return ;;
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    case $cmd in
${cases}
    esac
    return
  fi
  case $cmd in
    ${takesScript.join('|')}) compadd -- ${w.scripts.map(zq).join(' ')} ;;
    completion) compadd -- bash zsh ;;
  esac
}
compdef _tc_promote tc-promote tc-promote.js
`;
}

export async function run(argv: string[], io: Io, context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('completion', argv, {});
  if (values.help) return io.stdout(help + '\n'), 0;
  if (values.json) throw new UsageError('--json: completion prints a shell script; leave out --json');
  const shell = positionals[0];
  if (positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh')) throw new UsageError(`completion: give the shell, bash or zsh${shell !== undefined ? ` (got ${quote(shell)})` : ''}`);
  const collected = await collect(context.commands, values.config);
  io.stdout(shell === 'bash' ? bashScript(collected) : zshScript(collected));
  return 0;
}
