/**
 * A real, throwaway `memcached` on a free port (TCP only), for the lock reader's tests.
 */
import { withFreshPortOnClash } from './free-port.js';
import { type LaunchedServer, launchServer } from './server-process.js';

/** Note: stop() takes up to ~1 s, since memcached notices signals on its once-a-second clock tick. */
export interface MemcachedServer extends LaunchedServer {
  /** memjs `servers` string: `127.0.0.1:<port>` */
  readonly servers: string;
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
