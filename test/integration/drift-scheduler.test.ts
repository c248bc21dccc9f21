import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readTuning } from '../../src/config/tuning.js';
import { silentLogger } from '../../src/log.js';
import { ChangeQueue } from '../../src/queue/change-queue.js';
import { ChangeWorker } from '../../src/queue/change-worker.js';
import type { RequestDisplay } from '../../src/core/ports.js';
import { RequestStore } from '../../src/store/request-store.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

describe('the drift tick is a BullMQ job scheduler', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('several worker processes sharing one Redis run one check per interval', async () => {
    const ticks: Array<{ worker: number; at: number }> = [];
    const tuning = readTuning({});
    const parts = [0, 1, 2].map((n) => {
      const redis = new Redis(server.url, { maxRetriesPerRequest: null });
      const queue = new ChangeQueue(redis, tuning);
      const worker = new ChangeWorker({
        connection: new Redis(server.url, { maxRetriesPerRequest: null }),
        store: new RequestStore(redis),
        queue,
        display: {} as RequestDisplay, // never reached: drift ticks post nothing here
        clock: { now: () => Date.now() },
        log: silentLogger,
        lockDurationMs: 5000,
        apply: async () => {
          throw new Error('no changes in this test');
        },
        drift: async () => {
          ticks.push({ worker: n, at: Date.now() });
        },
      });
      return { redis, queue, worker };
    });
    const startedAt = Date.now();
    // Every process upserts the same scheduler at start-up, as the bot does.
    await Promise.all(parts.map((p) => p.queue.scheduleDrift(1000)));
    // Four ticks take three intervals; the deadline leaves room for a busy machine.
    await vi.waitFor(() => expect(ticks.length).toBeGreaterThanOrEqual(4), { timeout: 20_000, interval: 50 });
    await Promise.all(parts.map((p) => p.worker.close()));
    await Promise.all(parts.map((p) => p.queue.close()));
    parts.forEach((p) => p.redis.disconnect());
    const elapsed = Date.now() - startedAt;

    // No tick runs before its interval comes: n ticks need at least n - 1 whole intervals.
    expect(ticks.length).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 1);
    const gaps = ticks.slice(1).map((t, i) => t.at - ticks[i]!.at);
    // Two checks inside one interval would show as a gap far below the 1 s period.
    expect(Math.min(...gaps)).toBeGreaterThan(700);
  });
});
