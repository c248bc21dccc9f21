/**
 * The real bot as its own OS process (`src/main.ts` through tsx, or a built `dist/main.js`),
 * configured the way an operator would: a config file and environment variables. Being a
 * process, it can be SIGKILLed for real: no `finally`, no lingering timers, no half-closed
 * connections that an in-process "crash" would leave running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portTaken, withFreshPortOnClash } from '../../support/free-port.js';

export interface ChildBotOptions {
  /** Raw config object; written as JSON, which YAML reads as is. */
  config: Record<string, unknown>;
  redisUrl: string;
  slackApiUrl: string;
  signingSecret: string;
  botToken: string;
  /** Extra environment (tuning, AWS endpoint, LOG_LEVEL …) on top of process.env. */
  env?: Record<string, string>;
  /** Default: `src/main.ts` run through tsx, so no build is needed. */
  entry?: { command: string; args: string[] };
  readyTimeoutMs?: number;
}

export interface ChildBot {
  readonly port: number;
  readonly pid: number;
  readonly baseUrl: string;
  /** Milliseconds from spawn to /readyz answering 200. */
  readonly startupMs: number;
  readonly process: ChildProcess;
  /** A crash as the kernel delivers it. */
  kill(): Promise<void>;
  /** SIGTERM: the graceful shutdown path of src/main.ts. */
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export function tsxEntry(): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', join(ROOT, 'src/main.ts')] };
}

export async function startChildBot(o: ChildBotOptions): Promise<ChildBot> {
  return withFreshPortOnClash(undefined, (port) => startOnPort(o, port), portTaken);
}

async function startOnPort(o: ChildBotOptions, port: number): Promise<ChildBot> {
  const dir = mkdtempSync(join(tmpdir(), 'strangler-child-'));
  const configPath = join(dir, 'strangler.yml');
  writeFileSync(configPath, JSON.stringify(o.config, null, 2));
  const entry = o.entry ?? tsxEntry();
  const started = Date.now();
  const child = spawn(entry.command, entry.args, {
    cwd: ROOT,
    // Logs are not read; a pipe nobody drains would block the bot once it filled.
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...o.env,
      STRANGLER_CONFIG: configPath,
      SLACK_BOT_TOKEN: o.botToken,
      SLACK_SIGNING_SECRET: o.signingSecret,
      SLACK_API_URL: o.slackApiUrl,
      REDIS_URL: o.redisUrl,
      PORT: String(port),
    },
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let gone = false;
  void exited.then(() => {
    gone = true;
    rmSync(dir, { recursive: true, force: true });
  });
  // A test worker that dies must not leave a bot behind holding locks in someone's Redis.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = started + (o.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (gone) throw new Error(`bot process exited during start-up:\n${stderr}`);
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bot process not ready after ${o.readyTimeoutMs ?? 20_000} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const startupMs = Date.now() - started;

  const halt = async (signal: NodeJS.Signals) => {
    if (!gone) child.kill(signal);
    await exited;
    process.removeListener('exit', reap);
  };
  return {
    port,
    pid: child.pid!,
    baseUrl,
    startupMs,
    process: child,
    kill: () => halt('SIGKILL'),
    stop: () => halt('SIGTERM'),
  };
}
