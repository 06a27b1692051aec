/** `tc-promote promote <script> --from-env E2`: promote the image live in E2 forward, then follow it to the end. */
import { globalHelp, type Io } from './common.js';
import { followOptionsHelp, runPromotion } from './rollback.js';
import { graphOptionsHelp } from './graph-options.js';

export const help = `Usage: tc-promote promote <script> --from-env E2 [--env E] [--reason TEXT] [--fallback] [--yes] [--no-wait] [--timeout D]

Promotes the exact image live in environment E2 (usually dev) to E (default production), with
no rebuild, in one step: plans (as tc-promote plan --from-env does), prints what will move
(from → to, the commits it deploys, the tags written, the warnings), asks for confirmation on
a terminal, creates the task graph and follows it until every task has resolved, then prints
the outcome, the promotion record and the command that undoes it. Everything else is as
tc-promote rollback (exit codes, --yes without a terminal, --no-wait, --timeout).

Options:
${followOptionsHelp}
${graphOptionsHelp}

Examples:
  tc-promote promote beetmoverscript --from-env dev --reason "dev has run it for a day"
  tc-promote promote signingscript --from-env dev --reason "release 4.2" --fallback --yes

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  return runPromotion('promote', argv, io, help);
}
