/**
 * Progress while a task group is followed (rollback, promote, follow), on stderr. On a
 * terminal: one live block, a line per task with its state and how long it has been in it,
 * under a line with the time since following began, rewritten in place as states change and
 * every second (the CLI hands the cursor codes in: `rewrite`). Elsewhere (a pipe, a file, a CI
 * log): one line per change, as `+12s promote-…: pending -> running`, nothing rewritten.
 * A note (a failed poll) is printed above the block, which is drawn again under it.
 */
export interface ProgressTask {
  taskId: string;
  label: string;
}

export interface ProgressChange {
  taskId: string;
  label: string;
  from: string | null;
  to: string;
  blocked?: boolean;
}

export interface ProgressOptions {
  write: (text: string) => void;
  /** Rewrite lines in place (a terminal). */
  live: boolean;
  /** The text that clears the `n` lines just written and puts the cursor at the first (live only). */
  rewrite?: (n: number) => string;
  /** Lines are cut to this width so that none wraps (a wrapped line would not be rewritten). */
  width?: number;
  /** Paint a state (completed green, failed red); identity by default. */
  paintState?: (state: string) => string;
  now?: () => number;
  /** How often the live block's clocks move (default 1 s; 0: only on changes). */
  tickMs?: number;
  /** What the block's first line says is followed (default "task group"). */
  title?: string;
}

export interface Progress {
  /** Following starts now (the elapsed time counts from here). */
  start(tasks: readonly ProgressTask[]): void;
  change(change: ProgressChange): void;
  /** A line printed above the live block (or as it is, off a terminal). */
  note(text: string): void;
  /** Following ended: the block is left as it last was (live), the clock stopped. */
  end(): void;
}

/** 7s, 1m05s, 1h02m: finer than an age, for a clock that moves. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

const plus = (ms: number): string => `+${formatElapsed(ms)}`;

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const paintState = options.paintState ?? ((s: string) => s);
  const width = Math.max(40, (options.width ?? 120) - 1);
  const live = options.live && options.rewrite !== undefined;
  let started = now();
  let tasks: { taskId: string; label: string; state: string; since: number; blocked: boolean }[] = [];
  let drawn = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const cut = (line: string): string => (line.length > width ? `${line.slice(0, width - 1)}…` : line);
  const block = (): string[] => {
    const at = now();
    const labelWidth = Math.min(48, Math.max(...tasks.map((t) => t.label.length), 4));
    const done = tasks.filter((t) => t.blocked || ['completed', 'failed', 'exception'].includes(t.state)).length;
    return [
      cut(`following ${options.title ?? 'task group'}: ${done} of ${tasks.length} task(s) resolved, ${plus(at - started)}`),
      ...tasks.map((t) => {
        const state = t.blocked ? 'will not run (a task it depends on did not complete)' : `${t.state}${t.state === 'unknown' ? '' : ` for ${formatElapsed(at - t.since)}`}`;
        // Cut before painting: the paint marks take no room but must stay whole.
        const prefix = `  ${t.label.padEnd(labelWidth)}  `;
        const line = cut(`${prefix}${state}`);
        const rest = line.slice(prefix.length);
        return t.blocked || t.state === 'unknown' || !rest.startsWith(t.state) ? line : `${line.slice(0, prefix.length)}${paintState(t.state)}${rest.slice(t.state.length)}`;
      }),
    ];
  };
  const draw = (): void => {
    const lines = block();
    options.write(`${drawn ? options.rewrite!(drawn) : ''}${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  return {
    start(list) {
      started = now();
      tasks = list.map((t) => ({ taskId: t.taskId, label: t.label, state: 'unknown', since: started, blocked: false }));
      if (!live) return;
      draw();
      const tick = options.tickMs ?? 1000;
      if (tick > 0) {
        timer = setInterval(draw, tick);
        timer.unref?.();
      }
    },
    change(change) {
      const at = now();
      if (!live) {
        const head = plus(at - started).padEnd(6);
        if (change.blocked) options.write(`${head} ${change.label}: will not run (a task it depends on did not complete)\n`);
        else options.write(`${head} ${change.label}: ${change.from ? `${change.from} -> ` : ''}${paintState(change.to)}\n`);
        return;
      }
      const task = tasks.find((t) => t.taskId === change.taskId);
      if (!task) tasks.push({ taskId: change.taskId, label: change.label, state: change.to, since: at, blocked: Boolean(change.blocked) });
      else if (change.blocked) task.blocked = true;
      else if (task.state !== change.to) Object.assign(task, { state: change.to, since: at });
      draw();
    },
    note(text) {
      if (!live || !drawn) return options.write(text.endsWith('\n') ? text : `${text}\n`);
      options.write(`${options.rewrite!(drawn)}${text.endsWith('\n') ? text : `${text}\n`}`);
      drawn = 0;
      draw();
    },
    end() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (live && drawn) draw();
    },
  };
}
