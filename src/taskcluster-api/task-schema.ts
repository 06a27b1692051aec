/**
 * The project's schema for the tasks it creates: a Queue `createTask` body whose payload is
 * the docker-worker format (which generic-worker runs through d2g). It is narrower than
 * Taskcluster's published schemas on purpose: every field tc-promote sets is required, and
 * only the payload features its tasks use are allowed. The TypeScript type is derived from
 * it and `schemas/task.schema.json` is written from it at build time; a test checks that
 * it agrees with Taskcluster's published schemas.
 */
import type { FromSchema } from '../util/from-schema.js';

/** The Queue's slugid pattern (a "nice" v4 slugid). */
export const slugidPatternSource = '^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$';

/** ISO 8601 UTC as `Date.prototype.toJSON` writes it (what json-e's $fromNow produces). */
export const isoTimeSchema = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$',
} as const;

const slugidSchema = { type: 'string', pattern: slugidPatternSource } as const;

export const artifactSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'path', 'expires'],
  properties: {
    type: { enum: ['file', 'directory'] },
    path: { type: 'string', pattern: '^/' },
    expires: isoTimeSchema,
  },
} as const;

export const dockerWorkerPayloadSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['image', 'command', 'env', 'maxRunTime', 'features'],
  properties: {
    image: { type: 'string', minLength: 1, description: 'The image that runs tc-promote' },
    command: { type: 'array', minItems: 1, items: { type: 'string' } },
    env: { type: 'object', additionalProperties: { type: 'string' } },
    maxRunTime: { type: 'integer', minimum: 1, maximum: 86400 },
    features: {
      type: 'object',
      additionalProperties: false,
      required: ['taskclusterProxy'],
      properties: {
        taskclusterProxy: { type: 'boolean', description: 'Secrets and queue calls go through the proxy with the task scopes' },
        chainOfTrust: { type: 'boolean' },
      },
    },
    artifacts: { type: 'object', additionalProperties: artifactSchema },
  },
} as const;

export const taskDefinitionSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/mozilla-releng/tc-promote/schemas/task.schema.json',
  title: 'tc-promote task definition (Queue createTask body with a docker-worker payload)',
  type: 'object',
  additionalProperties: false,
  required: [
    'taskGroupId',
    'schedulerId',
    'taskQueueId',
    'created',
    'deadline',
    'expires',
    'dependencies',
    'requires',
    'priority',
    'retries',
    'routes',
    'scopes',
    'metadata',
    'tags',
    'extra',
    'payload',
  ],
  properties: {
    taskGroupId: slugidSchema,
    schedulerId: { type: 'string', minLength: 1, maxLength: 38, pattern: '^([a-zA-Z0-9-_]*)$' },
    taskQueueId: { type: 'string', pattern: '^[a-zA-Z0-9-_]{1,38}/[a-z]([-a-z0-9]{0,36}[a-z0-9])?$' },
    projectId: { type: 'string', minLength: 1, maxLength: 500, pattern: '^([a-zA-Z0-9._/-]*)$' },
    created: isoTimeSchema,
    deadline: isoTimeSchema,
    expires: isoTimeSchema,
    dependencies: { type: 'array', uniqueItems: true, maxItems: 10000, items: slugidSchema },
    requires: { enum: ['all-completed', 'all-resolved'] },
    priority: { enum: ['highest', 'very-high', 'high', 'medium', 'low', 'very-low', 'lowest'] },
    retries: { type: 'integer', minimum: 0, maximum: 49 },
    routes: { type: 'array', uniqueItems: true, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 249 } },
    scopes: {
      type: 'array',
      uniqueItems: true,
      // Printable ASCII, and never more than one trailing `*` (the Queue refuses those).
      items: { type: 'string', minLength: 1, pattern: '^(?![ -~]*\\*\\*$)[ -~]*$' },
    },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'description', 'owner', 'source'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255 },
        description: { type: 'string', maxLength: 32768 },
        owner: { type: 'string', minLength: 1, maxLength: 255 },
        source: { type: 'string', maxLength: 4096, pattern: '^(https?://|ssh://|git@)' },
      },
    },
    tags: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } },
    extra: { type: 'object' },
    payload: dockerWorkerPayloadSchema,
  },
} as const;

export type TaskDefinition = FromSchema<typeof taskDefinitionSchema>;
export type DockerWorkerPayload = FromSchema<typeof dockerWorkerPayloadSchema>;
