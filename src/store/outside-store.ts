/**
 * Out-of-band change state in Redis. Baselines live apart from episodes because two writers set
 * them: the worker after a verified apply, and the periodic check (first sight) or an Accept. An
 * apply's baseline must never be overwritten by a check that read the old one, so the check only
 * ever writes a baseline with HSETNX, while an apply or Accept overwrites it.
 */
import type { Redis } from 'ioredis';
import type { Baseline, OutsideState } from '../core/outside-change.js';
import type { RecordClaim } from '../core/record-claims.js';
import { DELETE_IF_EQUALS } from './delete-if-equals.js';

const BASELINES = 'strangler:outside:baseline';
const STATES = 'strangler:outside:state';
const CLAIMS = 'strangler:outside:claims';
const LOCK = 'strangler:outside:lock';

export interface StoredClaims {
  readonly claims: readonly RecordClaim[];
  readonly checkedAt: number;
}

function parseAll<T>(raw: Record<string, string>): Map<string, T> {
  return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as T]));
}

export class OutsideStore {
  constructor(private readonly redis: Redis) {}

  async baselines(): Promise<Map<string, Baseline>> {
    return parseAll<Baseline>(await this.redis.hgetall(BASELINES));
  }

  async baseline(service: string): Promise<Baseline | undefined> {
    const raw = await this.redis.hget(BASELINES, service);
    return raw === null ? undefined : (JSON.parse(raw) as Baseline);
  }

  /** The bot applied, or an approver accepted, this split: it is what the service should be at. */
  async setBaseline(service: string, b: Baseline): Promise<void> {
    await this.redis.hset(BASELINES, service, JSON.stringify(b));
  }

  /** First sight: only if nothing set one meanwhile. */
  async seedBaseline(service: string, b: Baseline): Promise<void> {
    await this.redis.hsetnx(BASELINES, service, JSON.stringify(b));
  }

  async states(): Promise<Map<string, OutsideState>> {
    return parseAll<OutsideState>(await this.redis.hgetall(STATES));
  }

  async saveStates(states: readonly OutsideState[]): Promise<void> {
    if (states.length === 0) return;
    await this.redis.hset(STATES, Object.fromEntries(states.map((s) => [s.service, JSON.stringify(s)])));
  }

  async claims(): Promise<Map<string, StoredClaims>> {
    return parseAll<StoredClaims>(await this.redis.hgetall(CLAIMS));
  }

  async saveClaims(claims: ReadonlyMap<string, StoredClaims>): Promise<void> {
    if (claims.size === 0) return;
    await this.redis.hset(CLAIMS, Object.fromEntries([...claims].map(([k, v]) => [k, JSON.stringify(v)])));
  }

  /** Forget services no longer configured, so they do not linger in status. */
  async retain(services: readonly string[]): Promise<void> {
    for (const key of [BASELINES, STATES, CLAIMS]) {
      const stale = (await this.redis.hkeys(key)).filter((k) => !services.includes(k));
      if (stale.length) await this.redis.hdel(key, ...stale);
    }
  }

  /**
   * One writer of episodes at a time across all processes: a check that overruns its interval, or
   * an Accept clicked while a check runs, must not post or resolve the same alert twice.
   * Waits up to `waitMs` for the lock; undefined when it could not be taken.
   */
  async withLock<T>(ttlMs: number, fn: () => Promise<T>, waitMs = 0): Promise<T | undefined> {
    const token = `${process.pid}-${Math.random()}`;
    const deadline = Date.now() + waitMs;
    while ((await this.redis.set(LOCK, token, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(DELETE_IF_EQUALS, 1, LOCK, token);
    }
  }
}
