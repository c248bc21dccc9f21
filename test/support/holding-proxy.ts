/**
 * An HTTP proxy in front of a real server that can hold requests: a slow metrics source, made
 * reproducible. While held, requests are accepted and get no answer until release().
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './free-port.js';

export interface HoldingProxy {
  readonly url: string;
  /** Requests waiting right now. */
  readonly waiting: number;
  /** Hold every request from now on, until release(). */
  hold(): void;
  /** Let held requests through and stop holding. */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(upstream: string): Promise<HoldingProxy> {
  const target = new URL(upstream);
  let holding = false;
  let queue: Array<() => void> = [];

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}\n`);
    });
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    if (!holding) {
      forward(req, res);
      return;
    }
    req.pause();
    const go = () => {
      queue = queue.filter((q) => q !== go);
      req.resume();
      forward(req, res);
    };
    queue.push(go);
    // A client that gives up (an aborted fetch) no longer waits.
    res.on('close', () => {
      queue = queue.filter((q) => q !== go);
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    get waiting() {
      return queue.length;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const go of [...queue]) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
