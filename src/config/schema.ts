/**
 * The configuration's JSON schema: the one source of truth for its shape. The TypeScript
 * type is derived from it and `schemas/config.schema.json` is written from it at build time.
 */
import type { FromSchema } from '../util/from-schema.js';

const name = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' } as const;

export const targetSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['registry', 'repository', 'tag'],
  properties: {
    registry: { type: 'string', minLength: 1, description: 'Registry host, e.g. docker.io or 127.0.0.1:5000' },
    repository: {
      type: 'string',
      pattern: '^[a-z0-9{}._/-]+$',
      description: 'Repository pattern; {script} is replaced by the script name',
    },
    tag: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$', description: 'The moving tag the cluster deploys' },
  },
} as const;

export const sourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['registry', 'repository'],
  properties: {
    registry: targetSchema.properties.registry,
    repository: targetSchema.properties.repository,
  },
} as const;

export const environmentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'movingTag', 'archivePrefix', 'deployBranch', 'sharedBranch', 'targets'],
  properties: {
    source: sourceSchema,
    movingTag: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' },
    archivePrefix: { type: 'string', pattern: '^[a-z][a-z0-9]*$', description: 'The <env> part of archive tags' },
    deployBranch: { type: 'string', pattern: '^[a-z0-9{}._/-]+$', description: 'Branch pattern deploying one script' },
    sharedBranch: { type: 'string', pattern: '^[a-z0-9._/-]+$', description: 'Branch deploying every script' },
    targets: { type: 'array', minItems: 1, items: targetSchema, description: 'The cluster: every tag a promotion points' },
  },
} as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/mozilla-releng/tc-promote/schemas/config.schema.json',
  title: 'tc-promote configuration',
  type: 'object',
  additionalProperties: false,
  required: ['taskcluster', 'github', 'scripts', 'environments'],
  properties: {
    taskcluster: {
      type: 'object',
      additionalProperties: false,
      required: ['rootUrl', 'trustDomain', 'project', 'level', 'workerPool', 'image', 'secrets'],
      properties: {
        rootUrl: { type: 'string', pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' },
        trustDomain: name,
        project: name,
        level: { type: 'integer', minimum: 1, maximum: 3 },
        // The Queue's taskQueueId: <provisionerId>/<workerType>.
        workerPool: { type: 'string', pattern: '^[a-zA-Z0-9-_]{1,38}/[a-z]([-a-z0-9]{0,36}[a-z0-9])?$' },
        image: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$', description: 'Docker image that runs tc-promote inside tasks' },
        secrets: {
          type: 'object',
          additionalProperties: false,
          required: ['registry', 'github'],
          properties: {
            registry: { type: 'string', minLength: 1 },
            github: { type: 'string', minLength: 1 },
          },
        },
        notify: { type: 'array', items: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' } },
        // The tasks' priority (the Queue's levels); the creator needs queue:create-task:<this or higher>:<workerPool>.
        priority: { enum: ['highest', 'very-high', 'high', 'medium', 'low', 'very-low', 'lowest'], default: 'lowest' },
      },
    },
    github: {
      type: 'object',
      additionalProperties: false,
      required: ['repository', 'defaultBranch'],
      properties: {
        repository: { type: 'string', pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$' },
        defaultBranch: { type: 'string', pattern: '^[A-Za-z0-9._/-]{1,200}$' },
      },
    },
    scripts: { type: 'array', minItems: 1, uniqueItems: true, items: name },
    environments: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[a-z][a-z0-9]*$' },
      additionalProperties: environmentSchema,
    },
  },
} as const;

export type Config = FromSchema<typeof configSchema>;
export type EnvironmentConfig = FromSchema<typeof environmentSchema>;
export type TargetConfig = FromSchema<typeof targetSchema>;
