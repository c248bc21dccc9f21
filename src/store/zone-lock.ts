/**
 * Serializes writes to one hosted zone across every worker process: Route 53 answers
 * PriorRequestNotComplete to a second change while the first is in flight, and the account's
 * API budget is shared. The lock is owned by a request id, so a job resumed after its worker
 * died takes over its own lock instead of waiting for it to expire.
 */
import type { Redis } from 'ioredis';
import { DELETE_IF_EQUALS } from './delete-if-equals.js';
import { Unreachable } from '../core/errors.js';

const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

export class ZoneLock {
  constructor(
    private readonly redis: Redis,
    private readonly opts: { ttlMs?: number; pollMs?: number; waitMs?: number } = {},
  ) {}

  async with<T>(zoneId: string, owner: string, fn: () => Promise<T>): Promise<T> {
    // The config accepts `Z…` and `/hostedzone/Z…` for the same zone: one lock for both.
    const key = `strangler:zone-lock:${zoneId.replace(/^\/hostedzone\//, '')}`;
    const ttl = this.opts.ttlMs ?? 60_000;
    const deadline = Date.now() + (this.opts.waitMs ?? 10 * 60_000);
    while ((await this.redis.eval(ACQUIRE, 1, key, owner, String(ttl))) !== 1) {
      if (Date.now() > deadline) throw new Unreachable(`Another change to hosted zone ${zoneId} has held it for too long.`);
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 250));
    }
    const renew = setInterval(() => void this.redis.eval(ACQUIRE, 1, key, owner, String(ttl)).catch(() => undefined), ttl / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.redis.eval(DELETE_IF_EQUALS, 1, key, owner).catch(() => undefined);
    }
  }
}
