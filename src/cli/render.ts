/** `tc-promote render <script>`: the task graph a promotion would submit, without submitting it. */
import { UsageError } from '../errors.js';
import { formatGraph, parseGraphFormat } from '../graph/format.js';
import { globalHelp, parseCommandArgs, type Io } from './common.js';
import { graphOptions, graphOptionsHelp, planAndBuildGraph, printWarnings } from './graph-options.js';

export const help = `Usage: tc-promote render <script> [plan flags] [--format json|yaml|dot|mermaid] [--task-group-id ID]
       tc-promote render <script> --offline --target-tag T [--target-digest D] [--moving-digest D] [--route R]

Plans the promotion (as tc-promote plan does), renders every task from the json-e templates in
taskcluster/ and validates it, and prints the graph: exactly what submit would create. With
--format json: {taskGroupId, tasks: [{label, taskId, task}]} in dependency order. Warnings go
to stderr. --offline needs no registry: the target is given instead of resolved.

Options:
  --format F       json (default), yaml, dot (Graphviz) or mermaid
${graphOptionsHelp}

Examples:
  tc-promote render signingscript --format yaml
  tc-promote render signingscript --offline --format mermaid \\
    --target-tag production-20210929025643-7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89 \\
    --target-digest sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('render', argv, { ...graphOptions, format: { type: 'string' } });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length > 1) throw new UsageError(`render: takes one script, got ${positionals.length} arguments`);
  const format = parseGraphFormat(values.format);
  const { plan, graph } = await planAndBuildGraph(values, positionals[0], io);
  printWarnings(io, plan, graph);
  io.stdout(formatGraph(graph, format));
  return 0;
}
