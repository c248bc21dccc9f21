/**
 * The built CLI (`node dist/cli.mjs`) as a child process, configured only through arguments and
 * env, as a CI step runs it. Its output is collected as it comes, so a test can act once the
 * CLI has said something (e.g. flip a version mid-wait) and read everything it printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves once stderr or stdout contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
}

export function startCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [resolve('dist/cli.mjs'), ...args], {
    // Only what is given: the test's own env must not leak a STRANGLER_URL or token in.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString('utf8');
    for (const l of listeners) l();
  });
  // A CLI left running by a failed test must not outlive the test process.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((r) =>
    child.once('close', (code) => {
      process.off('exit', killOnExit);
      r(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(text, timeoutMs = 20_000) {
      return new Promise<void>((resolveWait, reject) => {
        const check = () => {
          if (!(out + err).includes(text)) return;
          done();
          resolveWait();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`the CLI did not print "${text}" within ${timeoutMs} ms; stdout: ${out} stderr: ${err}`));
        }, timeoutMs);
        const onExit = () => {
          // Output may still be buffered in the pipe until 'close': check once more.
          if ((out + err).includes(text)) return;
          done();
          reject(new Error(`the CLI exited before printing "${text}"; stdout: ${out} stderr: ${err}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then(onExit);
        check();
      });
    },
  };
}

/** Runs the CLI to its end; kills it (and fails) if it outlives `timeoutMs`. */
export async function runCli(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  const code = await cli.exited;
  clearTimeout(timer);
  if (code === null) throw new Error(`the CLI did not finish within ${timeoutMs} ms; stdout: ${cli.stdout()} stderr: ${cli.stderr()}`);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
