/**
 * The promotion action in `public/actions.json`: a hook action in the shape that
 * taskgraph-based repositories and the in-tree action hooks already use, with a strict input
 * schema. `trigger` and the UI render its `hookPayload` with `{taskGroupId, taskId, input}`;
 * the hook wraps the repository's `.taskcluster.yml`, whose action task runs the callback.
 */
import type { Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import type { PlanRequest } from '../history/plan.js';
import { actionsFileSchema, type ActionsFile, type HookAction } from '../taskcluster-api/actions-schema.js';
import { sha256Hex } from '../util/sha256.js';
import { parseDuration } from '../util/duration.js';
import type { FromSchema } from '../util/from-schema.js';
import { validatorFor } from '../util/precompiled.js';
import { compileSchema, describeSchemaErrors } from '../util/validate.js';


export const actionName = 'promote-image';
/** The hook's permission: `in-tree-action-<level>-<permission>/<hash>`, `…:action:<permission>`. */
export const actionPermission = 'release-promotion';
/** `ACTION_CALLBACK` in the action task. */
export const callbackName = 'promote_image';
export const actionTitle = 'Promote image';
/** The Treeherder symbol of the action task. */
export const actionSymbol = 'promote';
export const actionDescription =
  "Point an environment's moving tag at an exact image the registry already holds (by default the previous-known-good deploy: a rollback), " +
  'or rebuild or rerun it. See [tc-promote](https://github.com/mozilla-releng/tc-promote).';

export const actionInputBaseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['script', 'environment', 'reason'],
  properties: {
    script: { type: 'string', title: 'Script', description: 'The scriptworker script whose image to promote' },
    environment: { type: 'string', title: 'Environment', description: 'The environment (cluster) whose moving tag is pointed' },
    target: {
      type: 'string',
      title: 'Target',
      description:
        '`previous` (default): the previous-known-good deploy; or an archive tag, a revision (7+ hex: its newest deploy), `sha256:<digest>`, or the name of another environment to promote the image live there',
      default: 'previous',
      pattern: '^[A-Za-z0-9_.:-]{1,200}$',
    },
    route: {
      type: 'string',
      title: 'Route',
      description: '`auto` (default): retag when the image exists, else rebuild; `retag`, `rebuild` (force-push the revision) or `rerun` (the original push task)',
      enum: ['auto', 'retag', 'rebuild', 'rerun'],
      default: 'auto',
    },
    fallback: {
      type: 'boolean',
      title: 'Fall back to a force-push',
      description: 'When promotion fails, force-push the target revision to the deploy branch (rebuild)',
      default: false,
    },
    'min-live': {
      type: 'string',
      title: 'Minimum live time',
      description: 'previous-known-good must have been live at least this long: 90s, 30m, 12h, 3d, 2w',
      pattern: '^\\d{1,9}[smhdw]$',
    },
    reason: {
      type: 'string',
      title: 'Reason',
      description: 'Why: recorded in the tasks and in public/promotion.json',
      minLength: 1,
      maxLength: 1000,
      // Text for people: newlines and tabs, no other control characters.
      pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$',
    },
  },
} as const;

export type ActionInput = FromSchema<typeof actionInputBaseSchema>;

/** `--reason` from the command line, held to the action input's rules. */
export function checkReason(text: string, field: string): string {
  const rule = actionInputBaseSchema.properties.reason;
  if (text.length < rule.minLength || text.length > rule.maxLength || !new RegExp(rule.pattern, 'u').test(text)) {
    throw new UsageError(`${field}: ${quote(text)} is not a reason: ${rule.minLength} to ${rule.maxLength} characters, no control characters but newlines and tabs`);
  }
  return text;
}

/** The strict input schema, with the configured scripts and environments as choices. */
export function actionInputSchema(config: Config): Record<string, unknown> {
  const envs = Object.keys(config.environments);
  const p = actionInputBaseSchema.properties;
  return {
    ...actionInputBaseSchema,
    properties: {
      ...p,
      script: { ...p.script, enum: [...config.scripts] },
      environment: { ...p.environment, enum: envs, default: envs.includes('production') ? 'production' : envs[0] },
    },
  };
}

const validators = new WeakMap<Config, ReturnType<typeof compileSchema<ActionInput>>>();

/** Validate an action input (from the UI, `trigger` or `ACTION_INPUT`); errors name the field and value. */
export function validateActionInput(config: Config, input: unknown, source = 'input'): ActionInput {
  let validate = validators.get(config);
  if (!validate) validators.set(config, (validate = compileSchema<ActionInput>(actionInputSchema(config))));
  if (!validate(input)) throw new UsageError(describeSchemaErrors(source, validate.errors, input));
  return input;
}

/** What `plan` is asked for, from an action input. */
export function planRequestFromInput(config: Config, input: ActionInput): PlanRequest {
  const target = input.target ?? 'previous';
  const request: PlanRequest = { script: input.script, env: input.environment, skip: [] };
  if (target !== 'previous') {
    if (Object.hasOwn(config.environments, target)) request.fromEnv = target;
    else request.to = target;
  }
  if (input.route !== undefined && input.route !== 'auto') request.route = input.route;
  if (input['min-live'] !== undefined) request.minLiveSeconds = parseDuration(input['min-live'], 'input.min-live');
  return request;
}

/** The decision task that publishes actions.json, and the push it decided. */
export interface DecisionInfo {
  taskGroupId: string;
  repositoryUrl: string;
  baseRepositoryUrl?: string;
  /** Default: the repository URL's last path segment. */
  project?: string;
  level: number;
  revision: string;
  baseRevision?: string;
  /** The pushed branch; actions.json carries it as the full ref (`refs/heads/<branch>`), as taskgraph writes it. */
  branch: string;
  owner: string;
}

/** First 10 hex of the sha256 of `.taskcluster.yml`, as the in-tree action hooks are named. */
export function taskclusterYmlHash(text: string | Buffer): string {
  return sha256Hex(text).slice(0, 10);
}

export function hookIdFor(level: number, taskclusterYml: string | Buffer): string {
  return `in-tree-action-${level}-${actionPermission}/${taskclusterYmlHash(taskclusterYml)}`;
}

export function buildAction(config: Config, decision: DecisionInfo, taskclusterYml: string | Buffer): HookAction {
  const project = decision.project ?? new URL(decision.repositoryUrl).pathname.replace(/\/+$/, '').split('/').pop() ?? config.taskcluster.project;
  return {
    name: actionName,
    kind: 'hook',
    title: actionTitle,
    description: actionDescription,
    context: [],
    schema: actionInputSchema(config),
    hookGroupId: `project-${config.taskcluster.trustDomain}`,
    hookId: hookIdFor(decision.level, taskclusterYml),
    hookPayload: {
      decision: {
        action: {
          // What taskgraph's register_callback_action writes for the same registration.
          name: actionName,
          title: actionTitle,
          description: actionDescription,
          taskGroupId: decision.taskGroupId,
          cb_name: callbackName,
          symbol: actionSymbol,
        },
        repository: {
          url: decision.repositoryUrl,
          project,
          level: String(decision.level),
          base_url: decision.baseRepositoryUrl ?? decision.repositoryUrl,
        },
        push: {
          owner: decision.owner,
          pushlog_id: '0',
          revision: decision.revision,
          base_revision: decision.baseRevision ?? decision.revision,
          branch: decision.branch.startsWith('refs/') ? decision.branch : `refs/heads/${decision.branch}`,
        },
      },
      user: {
        input: { $eval: 'input' },
        taskId: { $eval: 'taskId' },
        taskGroupId: { $eval: 'taskGroupId' },
      },
    },
    extra: { actionPerm: actionPermission },
  };
}

let validateActionsFile: ReturnType<typeof compileSchema<ActionsFile>> | undefined;

export function parseActionsFile(data: unknown, source: string): ActionsFile {
  validateActionsFile ??= validatorFor<ActionsFile>('actions', actionsFileSchema);
  if (!validateActionsFile(data)) throw new UsageError(describeSchemaErrors(source, validateActionsFile.errors, data));
  return data;
}

/** Add the action to an actions.json (replacing one of the same name), or start one. */
export function mergeAction(existing: ActionsFile | undefined, action: HookAction): ActionsFile {
  const base: ActionsFile = existing ?? { version: 1, actions: [], variables: {} };
  // One entry of the name, the new one, where the first was: a file holding two keeps neither old one.
  const same = (a: (typeof base.actions)[number]): boolean => 'name' in a && a.name === action.name;
  const index = base.actions.findIndex(same);
  const actions = base.actions.filter((a) => !same(a));
  actions.splice(index >= 0 ? index : actions.length, 0, action);
  return { ...base, actions };
}

export function findHookAction(file: ActionsFile, name: string, source: string): HookAction {
  const action = file.actions.find((a) => a.name === name);
  if (!action) throw new UsageError(`${source}: no action named ${quote(name)}; it has ${file.actions.map((a) => a.name ?? '(unnamed)').join(', ') || 'none'}`);
  if (action.kind !== 'hook') throw new UsageError(`${source}: action ${quote(name)} is of kind ${quote(action.kind)}, not hook`);
  return action as HookAction;
}
