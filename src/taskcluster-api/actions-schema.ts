/**
 * The project's schema for `public/actions.json` (version 1), the file the Taskcluster UI
 * (and Treeherder, for the repositories it lists) reads to offer actions. tc-promote writes hook actions; `kind: task` actions
 * are accepted so that an actions.json written by taskgraph can be merged into. The type is
 * derived from it and `schemas/actions.schema.json` is written from it at build time.
 */
import type { FromSchema } from '../util/from-schema.js';

const common = {
  name: { type: 'string', minLength: 1, maxLength: 255 },
  title: { type: 'string', minLength: 1, maxLength: 255 },
  description: { type: 'string', maxLength: 4096 },
  context: {
    type: 'array',
    uniqueItems: true,
    items: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } },
  },
  schema: { type: 'object' },
  extra: { type: 'object' },
} as const;

export const hookActionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'kind', 'title', 'description', 'context', 'hookGroupId', 'hookId', 'hookPayload'],
  properties: {
    ...common,
    kind: { const: 'hook' },
    hookGroupId: { type: 'string', minLength: 1 },
    hookId: { type: 'string', minLength: 1 },
    hookPayload: { type: 'object' },
  },
} as const;

export const taskActionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'title', 'description', 'task'],
  properties: {
    ...common,
    kind: { const: 'task' },
    task: { type: 'object' },
  },
} as const;

export const actionsFileSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/mozilla-releng/tc-promote/schemas/actions.schema.json',
  title: 'actions.json (version 1) as tc-promote writes and merges it',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'actions', 'variables'],
  properties: {
    version: { const: 1 },
    actions: { type: 'array', items: { anyOf: [hookActionSchema, taskActionSchema] } },
    variables: { type: 'object' },
  },
} as const;

export type HookAction = FromSchema<typeof hookActionSchema>;
export type TaskAction = FromSchema<typeof taskActionSchema>;
export type ActionsFile = FromSchema<typeof actionsFileSchema>;
