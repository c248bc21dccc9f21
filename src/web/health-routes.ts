/** Liveness and readiness on the HTTP port, next to /slack/events. */
import type { CustomRoute } from '@slack/bolt';
import type { Redis } from 'ioredis';

export function healthRoutes(deps: { redis: Redis }): CustomRoute[] {
  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      },
    },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        deps.redis
          .ping()
          .then(() => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end('ready\n');
          })
          .catch(() => {
            res.writeHead(503, { 'content-type': 'text/plain' });
            res.end('not ready: Redis is unreachable\n');
          });
      },
    },
  ];
}
