// `actions --merge` into an actions.json that already holds two promote-image entries (a file
// merged into twice by an older run, or by hand) keeps one: the new one, where the first was.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeTempDir } from '../support/registry.js';

const tcyml = fileURLToPath(new URL('../../.taskcluster.yml', import.meta.url));
const decisionTaskId = 'fXsd8WIzR9y1QRJTQNMn9A';

describe('actions --merge', () => {
  it('keeps one promote-image entry, the new one, in the first one’s place', async () => {
    const file = path.join(makeTempDir('actions-merge-'), 'actions.json');
    const args = (revision: string) => ['actions', '--merge', file, '--decision-task-id', decisionTaskId, '--revision', revision, '--taskcluster-yml', tcyml];
    const retrigger = { name: 'retrigger', kind: 'hook', title: 'Retrigger', description: 'x', context: [{}], hookGroupId: 'project-scriptworker', hookId: 'in-tree-action-3-generic/abc', hookPayload: {}, schema: { type: 'object' }, extra: { actionPerm: 'generic' } };
    writeFileSync(file, JSON.stringify({ version: 1, variables: {}, actions: [retrigger] }));
    expect((await runCli(args('a'.repeat(40)))).code).toBe(0);
    // Two promote-image entries: the file as an older run could leave it.
    const once = JSON.parse(readFileSync(file, 'utf8'));
    const old = once.actions.find((a: { name: string }) => a.name === 'promote-image');
    writeFileSync(file, JSON.stringify({ ...once, actions: [old, retrigger, { ...old, title: 'a second, stale copy' }] }));
    const result = await runCli(args('b'.repeat(40)));
    expect(result.code, result.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(file, 'utf8')) as { actions: { name: string; title: string; hookPayload: { decision: { push: { revision: string } } } }[] };
    expect(merged.actions.map((a) => a.name)).toEqual(['promote-image', 'retrigger']);
    expect(merged.actions[0]!.hookPayload.decision.push.revision).toBe('b'.repeat(40));
    expect(merged.actions.some((a) => a.title === 'a second, stale copy')).toBe(false);
  });

  it('on a full disk leaves the decision task’s actions.json as it was, never cut short', async () => {
    const point = makeTempDir('actions-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', point]);
    try {
      const file = path.join(point, 'actions.json');
      const original = `${JSON.stringify({ version: 1, variables: {}, actions: [] })}\n`;
      writeFileSync(file, original);
      writeFileSync(path.join(point, 'filler'), Buffer.alloc(4096));
      const result = await runCli(['actions', '--merge', file, '--decision-task-id', decisionTaskId, '--revision', 'c'.repeat(40), '--taskcluster-yml', tcyml]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`cannot write "${file}": the disk is full (ENOSPC)`);
      expect(readFileSync(file, 'utf8')).toBe(original);
    } finally {
      execFileSync('umount', ['-l', point]);
    }
  });
});
