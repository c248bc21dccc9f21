/**
 * The sandbox's child processes: redis-server, memcached and the real bot.
 *
 * Each runs in its own process group so that Ctrl-C in the terminal reaches only the sandbox,
 * which then stops them in order (bot first, while Redis is still there for it to finish with).
 * A "lifeline" shell per child kills the child's group when the sandbox dies without cleaning up
 * (SIGKILL, a killed test worker): its stdin is a pipe from us, and EOF on it means we are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, relative } from 'node:path';
import { freePort } from '../test/support/free-port.js';

/** A start-up problem a person can fix; main.ts prints the message alone, no stack trace. */
export class SandboxProblem extends Error {}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly running: boolean;
  /** SIGTERM to the whole group; SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

export function missingBinaries(names: readonly string[], path = process.env.PATH ?? ''): string[] {
  const dirs = path.split(delimiter).filter(Boolean);
  return names.filter((n) => !dirs.some((d) => existsSync(join(d, n))));
}

export function requireBinaries(): void {
  const missing = missingBinaries(['redis-server', 'memcached', 'prometheus']);
  if (missing.length === 0) return;
  const list = missing.length === 1 ? missing[0]! : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)!}`;
  throw new SandboxProblem(
    `${list} ${missing.length === 1 ? 'is' : 'are'} not installed (the sandbox runs its own throwaway instances).\n` +
      `Install with:\n\n    sudo apt-get install -y --no-install-recommends redis-server memcached prometheus\n\nthen run \`npm run sandbox\` again.`,
  );
}

function logTail(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text ? text.split('\n').slice(-lines).join('\n') : '(no output)';
  } catch {
    return '(no output)';
  }
}

interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

interface Spawned extends ChildHandle {
  /** Resolves with a description ("code 1", "signal SIGKILL") once the process has exited. */
  readonly exited: Promise<string>;
}

function spawnInOwnGroup(spec: SpawnSpec): Spawned {
  installExitHook();
  const fd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', fd, fd], env: spec.env ?? process.env, cwd: spec.cwd });
  } finally {
    closeSync(fd);
  }
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      running = false;
      resolve(`error ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve(signal ? `signal ${signal}` : `code ${code}`);
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new SandboxProblem(`could not start ${spec.command}`);
  liveGroups.add(pid);

  // dash's kill takes neither `--` nor `-s KILL` before a negative pid; `-9 -PGID` works in every sh.
  const lifeline = spawn('sh', ['-c', 'read -r _ || true; kill -9 "-$1" 2>/dev/null', 'lifeline', String(pid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  lifeline.on('error', () => undefined);
  lifeline.stdin?.on('error', () => undefined);
  lifeline.unref();
  (lifeline.stdin as unknown as { unref?: () => void } | null)?.unref?.();

  void exited.then(() => {
    liveGroups.delete(pid);
    lifeline.kill('SIGKILL');
  });

  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    get running() {
      return running;
    },
    async stop(graceMs = 5000) {
      if (!running) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Anything the child itself started (none expected) goes with the group.
      killGroup(pid, 'SIGKILL');
    },
  };
}

/** Polls `ready` until it says yes; fails early, with the log tail, if the process exits. */
async function waitReady(p: Spawned, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  let exitedWith: string | undefined;
  void p.exited.then((how) => {
    exitedWith = how;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitedWith) throw new SandboxProblem(`${p.name} exited while starting (${exitedWith}). Its output:\n${logTail(p.logFile)}`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await p.stop(1000);
  throw new SandboxProblem(`${p.name} did not become ready within ${timeoutMs / 1000} s. Its output:\n${logTail(p.logFile)}`);
}

/** freePort() only says the port was free a moment ago; on a clash, take another. */
async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start(await freePort());
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE|Address already in use/i.test((err as Error).message)) throw err;
    }
  }
}

function tcpAnswer(port: number, send: string, expect: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(send));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (expect.test(data)) done(true);
    });
    socket.once('end', () => done(expect.test(data)));
  });
}

export interface RedisChild extends ChildHandle {
  readonly url: string;
}

export async function startRedis(dir: string): Promise<RedisChild> {
  return onFreePort(async (port) => {
    const p = spawnInOwnGroup({
      name: 'redis-server',
      command: 'redis-server',
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir],
      logFile: join(dir, 'redis.log'),
    });
    await waitReady(p, () => tcpAnswer(port, 'PING\r\n', /^\+PONG\r\n/), 10_000);
    return Object.assign(p, { url: `redis://127.0.0.1:${port}` });
  });
}

export interface MemcachedChild extends ChildHandle {
  /** `host:port`, as MEMCACHE_SERVERS wants it. */
  readonly servers: string;
}

export async function startMemcached(dir: string): Promise<MemcachedChild> {
  // memcached refuses to run as root unless told which user to become.
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  return onFreePort(async (port) => {
    const p = spawnInOwnGroup({
      name: 'memcached',
      command: 'memcached',
      args: ['-p', String(port), '-l', '127.0.0.1', '-U', '0', ...asRoot],
      logFile: join(dir, 'memcached.log'),
    });
    await waitReady(p, () => tcpAnswer(port, 'version\r\n', /^VERSION /), 10_000);
    return Object.assign(p, { servers: `127.0.0.1:${port}` });
  });
}

/**
 * How to run the bot: the bundle `dist/main.js` when it is at least as new as every source file,
 * else straight from `src/` through tsx. Building here instead would race other people's
 * half-edited sources in the same tree, and a stale dist would demo yesterday's bot.
 */
export function botCommand(repoRoot: string): { args: string[]; description: string } {
  const src = join(repoRoot, 'src');
  const bundle = join(repoRoot, 'dist', 'main.js');
  const builtAt = existsSync(bundle) ? statSync(bundle).mtimeMs : -1;
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && statSync(full).mtimeMs > builtAt) stale.push(relative(repoRoot, full));
    }
  };
  walk(src);
  if (builtAt >= 0 && stale.length === 0) return { args: ['dist/main.js'], description: 'node dist/main.js' };
  const why = builtAt < 0 ? 'there is no dist/main.js' : `dist/ is older than ${stale.length === 1 ? stale[0] : `${stale.length} source files`}`;
  return { args: ['--import', 'tsx', 'src/main.ts'], description: `tsx src/main.ts (${why}; \`npm run build\` to run the bundled bot)` };
}

export interface BotChild extends ChildHandle {
  readonly url: string;
  readonly description: string;
}

export async function startBotProcess(opts: { repoRoot: string; dir: string; env: Record<string, string> }): Promise<BotChild> {
  const { args, description } = botCommand(opts.repoRoot);
  return onFreePort(async (port) => {
    const env: NodeJS.ProcessEnv = {
      // Only what a shell needs: a developer's own AWS profile, KUBECONFIG or SLACK_APP_TOKEN
      // must not leak in and point the demo bot at something real.
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? opts.dir,
      ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
      ...opts.env,
      PORT: String(port),
    };
    const p = spawnInOwnGroup({ name: 'strangler bot', command: process.execPath, args, env, cwd: opts.repoRoot, logFile: join(opts.dir, 'bot.log') });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(
      p,
      async () => {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        return res.ok;
      },
      45_000,
    );
    return Object.assign(p, { url, description });
  });
}

export interface PrometheusChild extends ChildHandle {
  /** `http://127.0.0.1:<port>`, for ramp gates. */
  readonly url: string;
}

/**
 * A throwaway Prometheus (Debian's package, never its system service) scraping `targets` every
 * second, with its storage in the sandbox's temp directory, so ramp gates read real PromQL.
 */
export async function startPrometheus(dir: string, targets: readonly string[]): Promise<PrometheusChild> {
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    [
      '# Written by the sandbox for this run only.',
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: kubernetes-side',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  return onFreePort(async (port) => {
    const p = spawnInOwnGroup({
      name: 'prometheus',
      command: 'prometheus',
      args: [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, `prometheus-data-${port}`)}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      logFile: join(dir, 'prometheus.log'),
    });
    const url = `http://127.0.0.1:${port}`;
    // A port clash shows in the log tail as "address already in use": onFreePort takes another.
    await waitReady(
      p,
      async () => {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        return res.ok;
      },
      30_000,
    );
    return Object.assign(p, { url });
  });
}

