// Write dist/cli/help.json: every command's help text and flags, taken from the built command
// modules themselves, so that `tc-promote <command> --help` prints without loading the
// command's module graph (src/cli/main.ts; test/cli/startup.test.ts holds it). Each entry
// records the size and time of the module it came from: main.ts uses the text only while that
// module is unchanged. Run after the build (scripts/write-schemas.js runs it).
import { statSync, writeFileSync } from 'node:fs';

const dist = new URL('../dist/cli/', import.meta.url);
const { commands, usage } = await import(new URL('commands.js', dist));
const { flagsOf } = await import(new URL('help-flags.js', dist));

const main = statSync(new URL('commands.js', dist));
const out = { usage: usage(), main: { size: main.size, mtimeMs: main.mtimeMs }, commands: {} };
for (const name of Object.keys(commands)) {
  const loaded = await commands[name].load();
  const file = new URL(`${name}.js`, dist);
  const { size, mtimeMs } = statSync(file);
  out.commands[name] = { help: loaded.help, flags: flagsOf(loaded.help), module: { size, mtimeMs } };
}
writeFileSync(new URL('help.json', dist), `${JSON.stringify(out)}\n`);
