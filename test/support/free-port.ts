import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where Linux's ephemeral range (`ip_local_port_range`) starts: listen(0) and outgoing connections get their ports above it. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (low > 0) return low;
  } catch {
    // not Linux: assume the IANA range
  }
  return 49152;
}

const LOWEST = 10_000;

function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : undefined;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * A TCP port nobody listens on right now, for a process that will bind it a moment later. Picked
 * below the ephemeral range: the stand-ins listen on port 0 and every outgoing connection takes a
 * port from that range, so a port released there can be handed out again before the process it
 * was meant for binds it (seen as a bot process failing with EADDRINUSE on a busy machine). Two
 * test workers can still pick the same port; the callers that spawn servers retry on a clash.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  if (low - LOWEST >= 1000) {
    for (let i = 0; i < 50; i++) {
      const port = await bindable(LOWEST + Math.floor(Math.random() * (low - LOWEST)));
      if (port !== undefined) return port;
    }
  }
  const port = await bindable(0);
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

/**
 * freePort() only says the port was free a moment ago; another test worker may bind it first. When
 * the caller did not ask for a specific port, try a couple of fresh ones while the failure is
 * a clash (by default anything but a missing binary).
 */
export async function withFreshPortOnClash<T>(
  fixedPort: number | undefined,
  start: (port: number) => Promise<T>,
  isClash: (err: Error) => boolean = (err) => !err.message.includes(' not found: '),
): Promise<T> {
  if (fixedPort !== undefined) return start(fixedPort);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await start(await freePort());
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error) || !isClash(err)) throw err;
    }
  }
  throw lastError;
}

/** What a bot process says when its PORT is taken (main.ts prints the listen error). */
export const portTaken = (err: Error): boolean => err.message.includes('EADDRINUSE');

/** Starts `server` on a free loopback port (the stand-ins' HTTP servers); resolves with the port. */
export async function listenOnLoopback(server: { once(event: 'error', fn: (err: Error) => void): unknown; listen(port: number, host: string, cb: () => void): unknown; address(): unknown }): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as { port: number }).port;
}
