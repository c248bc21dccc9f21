/** Liveness, readiness and metrics on the HTTP port, next to /slack/events. */
import type { ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { Metrics } from '../metrics.js';

export interface HealthDeps {
  readonly redis: Redis;
  readonly metrics: Metrics;
  /** Resolves to a reason when the Slack token does not work, undefined when it does. */
  readonly slackAuth: () => Promise<string | undefined>;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
}

/** Not ready with the first reason found: what an operator looking at a failing probe needs. */
export async function readiness(deps: HealthDeps): Promise<string | undefined> {
  try {
    await deps.redis.ping();
  } catch {
    return 'Redis is unreachable';
  }
  return deps.slackAuth();
}

export function healthRoutes(deps: HealthDeps): CustomRoute[] {
  return [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => text(res, 200, 'ok') },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        void readiness(deps).then((problem) => (problem ? text(res, 503, `not ready: ${problem}`) : text(res, 200, 'ready')));
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req, res) => {
        void deps.metrics.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
            res.end(body);
          },
          () => text(res, 500, 'metrics unavailable'),
        );
      },
    },
  ];
}
