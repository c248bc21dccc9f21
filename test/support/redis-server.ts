/**
 * A real, throwaway `redis-server` on a free port, which tests can stop, kill and bring back on the
 * same port to play "Redis went away".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFreshPortOnClash } from './free-port.js';
import { type LaunchedServer, launchServer } from './server-process.js';

export interface RedisServer extends LaunchedServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
}

export interface StartRedisOptions {
  port?: number;
  /** How long to wait for the server to answer after spawning (default 10 s). */
  readyTimeoutMs?: number;
  extraArgs?: string[];
}

export async function startRedisServer(opts: StartRedisOptions = {}): Promise<RedisServer> {
  return withFreshPortOnClash(opts.port, async (port) => {
    const host = '127.0.0.1';
    const dir = mkdtempSync(join(tmpdir(), 'strangler-redis-'));
    const args = [
      '--port', String(port),
      '--bind', host,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--dir', dir,
      ...(opts.extraArgs ?? []),
    ];
    const server = await launchServer({
      name: 'redis-server',
      command: 'redis-server',
      args,
      port,
      host,
      installHint: "redis-server not found: run `apt-get install -y redis-server` (the README's test command does this)",
      readyTimeoutMs: opts.readyTimeoutMs ?? 10_000,
      probe: { send: 'INFO server\r\n', complete: /process_id:\d+\r\n|^-[^\r]*\r\n/, pid: /process_id:(\d+)/ },
      onFinalCleanup: () => rmSync(dir, { recursive: true, force: true }),
    });
    return Object.assign(server, { url: `redis://${host}:${port}` });
  });
}
