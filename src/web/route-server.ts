/**
 * A plain HTTP server for the custom routes (health, readiness, metrics) when the process has
 * no Bolt app to host them: a worker-only replica still needs probes and a /metrics endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';

export async function serveRoutes(routes: readonly CustomRoute[], port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.path === path && [r.method].flat().includes(req.method ?? 'GET'));
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    route.handler(req as Parameters<CustomRoute['handler']>[0], res);
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
