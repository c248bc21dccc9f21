/**
 * Redis connections. The app's own connection fails fast while Redis is away (so a click gets
 * "try again" instead of hanging); BullMQ's worker needs one that waits forever.
 */
import { Redis } from 'ioredis';
import { Unreachable } from './core/errors.js';

/** The URL without its password, for messages and logs. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured REDIS_URL';
  }
}

export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: timeoutMs });
  redis.on('error', () => undefined); // reconnects on its own; callers see failed commands
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Unreachable(`Cannot reach Redis at ${safeRedisUrl(url)}: ${(err as Error).message.replace(/\.$/, "")}. Start Redis or set REDIS_URL.`, err);
  }
  return redis;
}

export function workerRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  return redis;
}

/** An error from the Redis client meaning Redis is out of reach (worth retrying), not a bug. */
export function isRedisDown(err: unknown): boolean {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''}`;
  return /MaxRetriesPerRequest|enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable/i.test(text);
}
