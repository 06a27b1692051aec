// Run a command on a real pseudo-terminal (python3's pty module), answer its question, and
// collect what the terminal showed and the exit code. Asynchronous: the emulators answering the
// child may live in the calling process.
import { spawn, spawnSync } from 'node:child_process';

export const ptyAvailable = (): boolean => spawnSync('python3', ['-c', 'import pty']).status === 0;

const program = `
import os, pty, select, signal, sys, json, time
argv, env, prompt, answer = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3].encode(), bytes.fromhex(sys.argv[4])
pid, fd = pty.fork()
if pid == 0:
    os.execve(argv[0], argv, env)
out = b''
def read_until(done, seconds):
    global out
    deadline = time.time() + seconds
    while not done() and time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        out += chunk
read_until(lambda: prompt in out, 20)
os.write(fd, answer)
read_until(lambda: False, 20)
try:
    os.kill(pid, signal.SIGKILL)
except ProcessLookupError:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'code': os.waitstatus_to_exitcode(status), 'out': out.decode('utf8', 'replace')}))
`;

/** Runs argv on a pseudo-terminal; once `prompt` shows, types `answer` (e.g. "n\n", or "\x04" for Ctrl-D). */
export async function onPseudoTerminal(argv: string[], env: Record<string, string>, prompt: string, answer: string): Promise<{ code: number; out: string }> {
  const ran = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('python3', ['-c', program, JSON.stringify(argv), JSON.stringify(env), prompt, Buffer.from(answer).toString('hex')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  if (ran.status !== 0) throw new Error(`the pseudo-terminal driver failed (${ran.status}): ${ran.stderr}`);
  return JSON.parse(ran.stdout) as { code: number; out: string };
}
