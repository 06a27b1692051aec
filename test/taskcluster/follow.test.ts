// Following a task group when the Queue fails some polls: every failure is counted in a row,
// and an answer in between starts the count again (rollback prints the first of a streak and
// every tenth, so a Queue down for 15 minutes is a few lines, not one a poll).
import { describe, expect, it } from 'vitest';
import { followTaskGroup, type TaskGroupLister } from '../../src/taskcluster/follow.js';

describe('followTaskGroup', () => {
  it('counts failed polls in a row, and starts again after a poll that answered', async () => {
    // Polls 1–3 fail, 4 answers (pending), 5–6 fail, 7 answers completed.
    const script: (string | 'fail')[] = ['fail', 'fail', 'fail', 'pending', 'fail', 'fail', 'completed'];
    let poll = 0;
    const queue: TaskGroupLister = {
      listTaskGroup: async () => {
        const step = script[poll++];
        if (step === 'fail' || step === undefined) throw Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
        return { tasks: [{ status: { taskId: 'T1', state: step } }] };
      },
    };
    const errors: number[] = [];
    const changes: string[] = [];
    let clock = 0;
    const result = await followTaskGroup(queue, 'G', [{ taskId: 'T1', label: 'promote', dependencies: [], requires: 'all-completed' }], {
      timeoutMs: 60_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
      onPollError: (message, inARow) => {
        expect(message).toContain('listTaskGroup G');
        errors.push(inARow);
      },
      onChange: (c) => changes.push(`${c.from}->${c.to}`),
    });
    expect(errors).toEqual([1, 2, 3, 1, 2]);
    expect(changes).toEqual(['null->pending', 'pending->completed']);
    expect(result).toMatchObject({ settled: true, polls: 7 });
  });
});
