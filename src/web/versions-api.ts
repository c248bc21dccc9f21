/**
 * `GET /api/v1/services/{service}/versions`: the tandem-deploy gate CI polls (the CLI in
 * src/cli). It answers from the last drift check in Redis, never by reading the version sources
 * itself, so however many pipelines poll, the Kubernetes API and the EC2 endpoints see one read
 * per drift interval; `checkedAt` says how fresh the answer is.
 *
 * Order of checks: the API being on, the bearer token, the token's rate limit, then the service.
 * A caller without a valid token learns nothing about which services exist.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { ApiError } from '../core/versions-answer.js';
import { versionsAnswer } from '../core/versions-answer.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { DriftStore } from '../store/drift-store.js';
import { ApiTokens, bearerToken } from './api-tokens.js';

export const VERSIONS_PATH = '/api/v1/services/:service/versions';

export interface VersionsApiDeps {
  readonly tokens: readonly string[];
  /** Configured service names, and whether each has version sources. */
  readonly services: ReadonlyMap<string, boolean>;
  readonly driftStore: DriftStore;
  readonly redis: Redis;
  readonly rateLimit: { readonly points: number; readonly windowSeconds: number };
  readonly metrics: Metrics;
  readonly log: Logger;
}

type Outcome = 'ok' | 'unauthorized' | 'rate_limited' | 'not_found' | 'off' | 'unavailable';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

const refusal = (error: ApiError['error'], message: string): ApiError => ({ error, message });

interface Limiter {
  /** Undefined when the request may go on, else the seconds to wait. */
  consume(key: string): Promise<number | undefined>;
}

/** rate-limiter-flexible on the bot's Redis: one window per token, shared by every replica. */
async function redisLimiter(redis: Redis, points: number, windowSeconds: number): Promise<Limiter> {
  // Imported only when the API is on: a bot without tokens never loads it.
  const { RateLimiterRedis, RateLimiterRes } = await import('rate-limiter-flexible');
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'strangler:api-rate', points, duration: windowSeconds });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return undefined;
      } catch (err) {
        // The library rejects with its result when over the limit, with an Error when Redis fails.
        if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw err;
      }
    },
  };
}

export async function versionsApiRoutes(deps: VersionsApiDeps): Promise<CustomRoute[]> {
  const tokens = new ApiTokens(deps.tokens);
  const limiter = tokens.enabled ? await redisLimiter(deps.redis, deps.rateLimit.points, deps.rateLimit.windowSeconds) : undefined;
  const known = [...deps.services.keys()].sort();

  const handle = async (req: IncomingMessage & { params?: Record<string, string | string[]> | undefined }, res: ServerResponse): Promise<void> => {
    const answer = (outcome: Outcome, status: number, body: unknown, headers?: Record<string, string>) => {
      deps.metrics.versionsApiRequests.inc({ outcome });
      send(res, status, body, headers);
    };
    if (!limiter) {
      return answer('off', 404, refusal('api_off', 'The strangler API is off: STRANGLER_API_TOKENS is not set on the bot.'));
    }
    const presented = bearerToken(req.headers.authorization);
    const who = tokens.identify(presented);
    if (!who) {
      // Logged without the token, of course; the address helps find a misconfigured pipeline.
      deps.log.info({ event: 'api.refused', reason: presented ? 'wrong token' : 'no token', remote: req.socket.remoteAddress }, 'API request refused');
      return answer(
        'unauthorized',
        401,
        refusal('unauthorized', presented ? 'The bearer token is not one of STRANGLER_API_TOKENS.' : 'Send a token: Authorization: Bearer <token>.'),
        { 'www-authenticate': presented ? 'Bearer realm="strangler", error="invalid_token"' : 'Bearer realm="strangler"' },
      );
    }
    const retryAfter = await limiter.consume(who);
    if (retryAfter !== undefined) {
      const window = `${deps.rateLimit.points} per ${deps.rateLimit.windowSeconds} s`;
      return answer('rate_limited', 429, refusal('rate_limited', `Too many requests with this token (${window}); retry after ${retryAfter} s.`), {
        'retry-after': String(retryAfter),
      });
    }
    const param = req.params?.service;
    const service = typeof param === 'string' ? param : '';
    const hasSources = deps.services.get(service);
    if (hasSources === undefined) {
      const list = known.length ? ` Known services: ${known.join(', ')}.` : '';
      // Echoed capped: the name comes from the URL, which can be long.
      const shown = service.length > 64 ? `${service.slice(0, 64)}…` : service;
      return answer('not_found', 404, refusal('unknown_service', `There is no service called "${shown}".${list}`));
    }
    if (!hasSources) {
      return answer(
        'not_found',
        404,
        refusal('no_version_sources', `Service "${service}" has no version sources (services.${service}.version in strangler.yml), so strangler does not know what it runs.`),
      );
    }
    const state = await deps.driftStore.get(service);
    answer('ok', 200, versionsAnswer(service, state));
  };

  return [
    {
      path: VERSIONS_PATH,
      method: ['GET'],
      handler: (req, res) => {
        handle(req, res).catch((err: unknown) => {
          deps.log.warn({ err: (err as Error)?.message }, 'API request failed');
          deps.metrics.versionsApiRequests.inc({ outcome: 'unavailable' });
          if (!res.headersSent) send(res, 503, refusal('unavailable', 'strangler cannot read its state right now (Redis); try again shortly.'), { 'retry-after': '5' });
        });
      },
    },
  ];
}
