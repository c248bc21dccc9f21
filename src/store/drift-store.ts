/**
 * Drift state per service in one Redis hash, so a restart neither repeats an alert (the alert's
 * coordinates are kept) nor forgets one (the episode and its start time are kept).
 */
import type { Redis } from 'ioredis';
import { DELETE_IF_EQUALS } from './delete-if-equals.js';
import type { DriftState } from '../core/drift.js';

const KEY = 'strangler:drift';
const LOCK = 'strangler:drift-lock';

export class DriftStore {
  constructor(private readonly redis: Redis) {}

  async all(): Promise<Map<string, DriftState>> {
    const raw = await this.redis.hgetall(KEY);
    return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as DriftState]));
  }

  /** One service's state, for the HTTP API (read on every poll, so not the whole hash). */
  async get(service: string): Promise<DriftState | undefined> {
    const raw = await this.redis.hget(KEY, service);
    return raw === null ? undefined : (JSON.parse(raw) as DriftState);
  }

  async save(states: readonly DriftState[]): Promise<void> {
    if (states.length === 0) return;
    await this.redis.hset(KEY, Object.fromEntries(states.map((s) => [s.service, JSON.stringify(s)])));
  }

  /** Forget services no longer configured, so they do not linger in status. */
  async retain(services: readonly string[]): Promise<void> {
    const stale = (await this.redis.hkeys(KEY)).filter((k) => !services.includes(k));
    if (stale.length) await this.redis.hdel(KEY, ...stale);
  }

  /**
   * One check at a time across all processes: a tick that overruns its interval must not
   * overlap the next one, or both would post the same alert.
   */
  async withCheckLock<T>(ttlMs: number, fn: () => Promise<T>): Promise<T | undefined> {
    const token = `${process.pid}-${Math.random()}`;
    if ((await this.redis.set(LOCK, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
    try {
      return await fn();
    } finally {
      await this.redis.eval(DELETE_IF_EQUALS, 1, LOCK, token);
    }
  }
}
