/**
 * The built bot (`node dist/main.js`) as a child process, configured only through env and a
 * config file, as an operator runs it. For tests about processes: replicas, SIGKILL, SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { portTaken, withFreshPortOnClash } from './free-port.js';

export interface BotProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout and stderr. */
  readonly output: string[];
  readonly exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

export function writeConfig(config: Record<string, unknown>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'strangler-config-')), 'strangler.yml');
  writeFileSync(path, stringify(config));
  return path;
}

export async function startBotProcess(
  env: Record<string, string>,
  opts: { args?: string[]; waitReady?: boolean; nodeArgs?: string[]; /** Default dist/main.js of this checkout. */ entry?: string } = {},
): Promise<BotProcess> {
  return withFreshPortOnClash(
    undefined,
    async (port) => {
      const bot = spawnBot(port, env, opts.args ?? [], opts.nodeArgs ?? [], opts.entry ?? resolve('dist/main.js'));
      // waitHttp's error carries the bot's output, so a taken port shows as EADDRINUSE there.
      if (opts.waitReady !== false) await waitHttp(`${bot.url}/readyz`, 200, 20_000, bot);
      return bot;
    },
    portTaken,
  );
}

function spawnBot(port: number, env: Record<string, string>, args: string[], nodeArgs: string[], entry: string): BotProcess {
  const child = spawn(process.execPath, [...nodeArgs, entry, ...args], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'info', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (buf: Buffer) => output.push(...buf.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  process.once('exit', () => child.kill('SIGKILL'));
  return { port, url: `http://127.0.0.1:${port}`, child, output, exited, signal: (s) => child.kill(s) };
}

export async function waitHttp(url: string, status: number, timeoutMs: number, bot?: BotProcess): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (bot && bot.child.exitCode !== null) throw new Error(`bot exited with ${bot.child.exitCode}:\n${bot.output.join('\n')}`);
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === status) return body;
      last = `${res.status} ${body}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})${bot ? `\n${bot.output.slice(-20).join('\n')}` : ''}`);
}
