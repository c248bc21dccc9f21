import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Linux's ephemeral range (`ip_local_port_range`): where listen(0) and outgoing connections get their ports. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux: assume the IANA range
  }
  return [49152, 65535];
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
  const [ephemeralLow] = ephemeralRange();
  if (ephemeralLow - LOWEST >= 1000) {
    for (let i = 0; i < 50; i++) {
      const port = await bindable(LOWEST + Math.floor(Math.random() * (ephemeralLow - LOWEST)));
      if (port !== undefined) return port;
    }
  }
  const port = await bindable(0);
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}
