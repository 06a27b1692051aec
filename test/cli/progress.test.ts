// The progress presenter (src/present/progress.ts) on a fake clock: a live block rewritten in
// place on a terminal, one line per change elsewhere, notes above the block, lines cut to the width.
import { describe, expect, it } from 'vitest';
import { createProgress, formatElapsed } from '../../src/present/progress.js';

const tasks = [
  { taskId: 'p', label: 'promote-signingscript-production' },
  { taskId: 'f', label: 'fallback-signingscript-production' },
];

describe('progress', () => {
  it('off a terminal: one line per change with the time since following began; nothing rewritten, no clock', () => {
    let clock = 1_000_000;
    let out = '';
    const p = createProgress({ write: (t) => void (out += t), live: false, rewrite: () => 'REWRITE', now: () => clock });
    p.start(tasks);
    expect(out).toBe('');
    clock += 3_000;
    p.change({ taskId: 'p', label: tasks[0]!.label, from: null, to: 'pending' });
    clock += 62_000;
    p.change({ taskId: 'p', label: tasks[0]!.label, from: 'pending', to: 'completed' });
    p.change({ taskId: 'f', label: tasks[1]!.label, from: 'unscheduled', to: 'unscheduled', blocked: true });
    p.note('note: listTaskGroup: 503; polling again');
    p.end();
    expect(out).toBe(
      '+3s    promote-signingscript-production: pending\n' +
        '+1m05s promote-signingscript-production: pending -> completed\n' +
        '+1m05s fallback-signingscript-production: will not run (a task it depends on did not complete)\n' +
        'note: listTaskGroup: 503; polling again\n',
    );
    expect(out).not.toContain('REWRITE');
  });

  it('on a terminal: a block (elapsed, each task and how long in its state) rewritten at each change; a note goes above it', () => {
    let clock = 0;
    const writes: string[] = [];
    const p = createProgress({ write: (t) => void writes.push(t), live: true, rewrite: (n) => `<up ${n}>`, now: () => clock, tickMs: 0, width: 80, paintState: (s) => `[${s}]` });
    p.start(tasks);
    expect(writes[0]).toBe('following task group: 0 of 2 task(s) resolved, +0s\n  promote-signingscript-production   unknown\n  fallback-signingscript-production  unknown\n');
    clock = 2_000;
    p.change({ taskId: 'p', label: tasks[0]!.label, from: null, to: 'running' });
    clock = 9_000;
    p.change({ taskId: 'f', label: tasks[1]!.label, from: null, to: 'unscheduled' });
    expect(writes[2]).toBe('<up 3>following task group: 0 of 2 task(s) resolved, +9s\n  promote-signingscript-production   [running] for 7s\n  fallback-signingscript-production  [unscheduled] for 0s\n');
    p.note('note: a poll failed');
    expect(writes[3]).toBe('<up 3>note: a poll failed\n');
    expect(writes[4]).toMatch(/^following task group/);
    clock = 75_000;
    p.change({ taskId: 'p', label: tasks[0]!.label, from: 'running', to: 'completed' });
    expect(writes.at(-1)).toContain('1 of 2 task(s) resolved, +1m15s\n  promote-signingscript-production   [completed] for 0s\n');
    p.end();
  });

  it('a line wider than the terminal is cut, never wrapped (a wrapped line would not be rewritten)', () => {
    const writes: string[] = [];
    const p = createProgress({ write: (t) => void writes.push(t), live: true, rewrite: () => '', now: () => 0, tickMs: 0, width: 50 });
    p.start([{ taskId: 'x', label: 'promote-a-very-long-script-name-indeed-production' }]);
    for (const line of writes[0]!.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(49);
    expect(writes[0]).toContain('…');
  });

  it('formatElapsed', () => {
    expect([0, 7_400, 65_000, 3_725_000].map(formatElapsed)).toEqual(['0s', '7s', '1m05s', '1h02m']);
  });
});
