import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A real server run by a test as a child process in the foreground, so the test can stop it (to simulate an
 * outage) and start it again on the same port. `start` resolves once the child printed a line matching
 * `ready` on stdout or stderr; the match's first group, when there is one, is returned (a port the server
 * chose itself, say).
 */
export interface ChildServerSpec {
  command: string;
  args: string[];
  ready: RegExp;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long to wait for `ready` (default 20 s). */
  startTimeoutMs?: number;
}

export class ChildServer {
  private child?: ChildProcess;
  private output = '';

  constructor(private readonly spec: ChildServerSpec) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<string | undefined> {
    if (this.running) throw new Error(`${this.spec.command} is already running`);
    this.output = '';
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new Error(`${this.spec.command} did not become ready in time; it printed:\n${this.output}`));
      }, this.spec.startTimeoutMs ?? 20_000);
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        const match = this.spec.ready.exec(this.output);
        if (match) {
          cleanup();
          resolve(match[1]);
        }
      };
      const onExit = (code: number | null) => {
        fail(new Error(`${this.spec.command} exited (${String(code)}) before it was ready:\n${this.output}`));
      };
      const fail = (error: Error) => {
        cleanup();
        child.kill('SIGKILL');
        reject(error);
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('exit', onExit);
        // Keep draining the pipes so a chatty server never blocks on a full one.
        child.stdout?.off('data', onData).resume();
        child.stderr?.off('data', onData).resume();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
      child.once('error', (error) => fail(error));
    });
  }

  /**
   * Freezes the server (SIGSTOP): the kernel still accepts connections, nothing answers — a server that
   * hangs rather than one that is down. `resume` (SIGCONT) thaws it; `stop` thaws it first.
   */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the server (SIGTERM, SIGKILL after 5 s) and waits for it to exit. Idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT'); // a paused server would not act on the signal
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }
}

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
