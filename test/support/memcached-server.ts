/**
 * A real, throwaway `memcached` on a free port (TCP only), for the lock reader's tests.
 */
import { launchServer, withFreshPortOnClash } from './redis-server.js';

export interface MemcachedServer {
  /** memjs `servers` string: `127.0.0.1:<port>` */
  readonly servers: string;
  readonly port: number;
  readonly host: string;
  readonly running: boolean;
  /** SIGTERM and wait; memcached takes up to ~1 s to exit (its clock ticks once a second). */
  stop(): Promise<void>;
  /** Start again on the same port (empty cache). No-op when running. */
  start(): Promise<void>;
  kill(): Promise<void>;
}

export async function startMemcachedServer(opts: { port?: number; readyTimeoutMs?: number } = {}): Promise<MemcachedServer> {
  // memcached refuses to run as root unless told which user to become.
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  return withFreshPortOnClash(opts.port, async (port) => {
    const host = '127.0.0.1';
    const server = await launchServer({
      name: 'memcached',
      command: 'memcached',
      args: ['-p', String(port), '-l', host, '-U', '0', ...asRoot],
      port,
      host,
      installHint: "memcached not found: run `apt-get install -y memcached` (the README's test command does this)",
      readyTimeoutMs: opts.readyTimeoutMs ?? 10_000,
      probe: { send: 'stats\r\n', complete: /END\r\n|ERROR\r\n/, pid: /STAT pid (\d+)/ },
    });
    return Object.assign(server, { servers: `${host}:${port}` });
  });
}
