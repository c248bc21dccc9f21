/**
 * A plain HTTP server for the custom routes (health, readiness, metrics) when the process has
 * no Bolt app to host them: a worker-only replica still needs probes and a /metrics endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';

/**
 * `:name` segments as Bolt's receivers match them (path-to-regexp), decoded, so a route with a
 * parameter works the same on a worker-only replica. Undefined when the path does not match.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

export async function serveRoutes(routes: readonly CustomRoute[], port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    for (const r of routes) {
      const params = [r.method].flat().includes(method) ? matchPath(r.path, path ?? '/') : undefined;
      if (params) {
        r.handler(Object.assign(req, { params }) as Parameters<CustomRoute['handler']>[0], res);
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
