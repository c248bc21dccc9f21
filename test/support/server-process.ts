/**
 * Real server processes (redis-server, memcached) for tests: spawned on a free port, checked to be
 * the process that answers, stopped, killed and restarted on the same port, and always cleaned up
 * when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

export interface LaunchSpec {
  name: string;
  command: string;
  args: string[];
  port: number;
  host: string;
  installHint: string;
  readyTimeoutMs: number;
  /**
   * A request the server answers once it accepts commands, with its own pid in the answer: a plain
   * PING would also be answered by whatever else already listens on the port.
   */
  probe: { send: string; complete: RegExp; pid: RegExp };
  /** Runs once, when the test process exits. */
  onFinalCleanup?: () => void;
}

export interface LaunchedServer {
  readonly port: number;
  readonly host: string;
  readonly running: boolean;
  /** Graceful shutdown (SIGTERM) and wait for exit. No-op when already stopped. */
  stop(): Promise<void>;
  /** Start again on the same port (empty: nothing is persisted). No-op when running. */
  start(): Promise<void>;
  /** SIGKILL and wait for exit: a crash, as clients see it (connections reset mid-flight). */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its connections and answers nothing, until `resume()` (SIGCONT). */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

interface Running {
  child: ChildProcess;
  lifeline: ChildProcess;
  exited: Promise<void>;
}

const live = new Set<ChildProcess>();
const finalCleanups: Array<() => void> = [];
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const cleanup of finalCleanups) {
      try {
        cleanup();
      } catch {
        // best effort: temp dirs only
      }
    }
  });
}

export async function launchServer(spec: LaunchSpec): Promise<LaunchedServer> {
  installExitHook();
  if (spec.onFinalCleanup) finalCleanups.push(spec.onFinalCleanup);
  let current: Running | undefined;

  const spawnOnce = async (): Promise<Running> => {
    const output: string[] = [];
    const child = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const remember = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.length > 50) output.shift();
    };
    child.stdout?.on('data', remember);
    child.stderr?.on('data', remember);

    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new Error(spec.installHint) : new Error(`${spec.name} failed to start: ${err.message}`)),
      );
    });
    let exitInfo: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        live.delete(child);
        resolve();
      });
    });
    await spawned;
    live.add(child);
    // process.on('exit') does not run when the test worker is SIGKILLed (vitest does that to hung
    // workers); this shell holds a pipe from us and kills the server when the pipe hits EOF.
    const lifeline = spawn('sh', ['-c', 'read -r _ || true; kill -KILL "$1" 2>/dev/null', 'lifeline', String(child.pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    lifeline.on('error', () => undefined);
    lifeline.stdin?.on('error', () => undefined);
    lifeline.unref();
    (lifeline.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    live.add(lifeline);
    lifeline.once('exit', () => live.delete(lifeline));

    try {
      await waitReady(spec, child.pid!, () => exitInfo, spec.readyTimeoutMs);
    } catch (err) {
      child.kill('SIGKILL');
      lifeline.kill('SIGKILL');
      await exited;
      const tail = output.join('').trim().split('\n').slice(-15).join('\n');
      throw new Error(`${(err as Error).message}\n${spec.name} output:\n${tail || '(none)'}`);
    }
    return { child, lifeline, exited };
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const running = current;
    if (!running) return;
    current = undefined;
    running.child.kill(signal);
    await running.exited;
    running.lifeline.kill('SIGKILL');
  };

  current = await spawnOnce();
  return {
    port: spec.port,
    host: spec.host,
    get running() {
      return current !== undefined;
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    pause: async () => {
      current?.child.kill('SIGSTOP');
    },
    resume: async () => {
      current?.child.kill('SIGCONT');
    },
    start: async () => {
      if (!current) current = await spawnOnce();
    },
  };
}

async function waitReady(spec: LaunchSpec, pid: number, exitInfo: () => string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    const exited = exitInfo();
    if (exited) throw new Error(`${spec.name} exited during start-up (${exited}) on port ${spec.port}`);
    try {
      const answer = await probeOnce(spec.host, spec.port, spec.probe.send, spec.probe.complete, 1_000);
      const answeredBy = Number(spec.probe.pid.exec(answer)?.[1]);
      if (answeredBy === pid) return;
      if (answeredBy) throw new Error(`${spec.host}:${spec.port} is already served by another ${spec.name} (pid ${answeredBy})`);
      lastError = `unexpected answer ${JSON.stringify(answer.slice(0, 200))}`;
    } catch (err) {
      if ((err as Error).message.includes('already served')) throw err;
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${spec.name} on ${spec.host}:${spec.port} not ready after ${timeoutMs} ms (${lastError})`);
}

function probeOnce(host: string, port: number, send: string, complete: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = '';
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(data);
    };
    socket.setTimeout(timeoutMs, () => done(new Error('probe timed out')));
    socket.once('error', (err) => done(err));
    socket.once('connect', () => socket.write(send));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (complete.test(data)) done();
    });
    socket.once('end', () => done());
  });
}
