/**
 * A ramp's job between two looks at its bake sleeps in the queue as a delayed job (no worker slot
 * held), and a click (Resume, Abort) wakes it: a delayed job is promoted, and a job still running
 * with the state from before the click runs again once it lets go, rather than the click being
 * lost to the job id's dedupe until the next sweep.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import type { RequestDisplay } from '../../src/core/ports.js';
import { readTuning } from '../../src/config/tuning.js';
import { silentLogger } from '../../src/log.js';
import { ChangeQueue } from '../../src/queue/change-queue.js';
import { ChangeWorker } from '../../src/queue/change-worker.js';
import { RampWaits } from '../../src/queue/ramp-waits.js';
import { RequestStore } from '../../src/store/request-store.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { weightRequestAt } from '../unit/request-fixture.js';

const ID = 12;

describe('a ramp job waits in the queue and a click wakes it', { timeout: 60_000 }, () => {
  let server: RedisServer;
  let redis: Redis;
  let queue: ChangeQueue;
  let worker: ChangeWorker | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await worker?.close(true);
    await queue?.close();
    redis?.disconnect();
    worker = undefined;
  });

  /** A worker whose apply does what the test says, call by call. */
  async function setUp(apply: (call: number) => Promise<ChangeRequest>): Promise<{ calls: () => number }> {
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    await redis.flushall();
    const request = weightRequestAt(Date.now(), 'applying', { id: ID });
    await redis.set(`strangler:request:${ID}`, JSON.stringify(request));
    queue = new ChangeQueue(redis, readTuning({}));
    let calls = 0;
    worker = new ChangeWorker({
      connection: new Redis(server.url, { maxRetriesPerRequest: null }),
      store: new RequestStore(redis),
      queue,
      display: { showRequest: async () => undefined } as unknown as RequestDisplay,
      clock: { now: () => Date.now() },
      log: silentLogger,
      lockDurationMs: 5000,
      apply: () => apply(++calls),
    });
    return { calls: () => calls };
  }

  it('a job waiting out a bake holds no slot, keeps its id, and a click runs it at once', async () => {
    const seen = await setUp(async () => {
      throw new RampWaits(10 * 60_000);
    });
    await queue.enqueueApply(ID);
    await vi.waitFor(async () => expect(await (await queue.queue.getJob(`apply-${ID}`))?.getState()).toBe('delayed'), { timeout: 20_000, interval: 50 });
    expect(seen.calls()).toBe(1);
    // The sweep adding it again changes nothing: the delayed job keeps its time.
    await queue.enqueueApply(ID);
    expect(await (await queue.queue.getJob(`apply-${ID}`))?.getState()).toBe('delayed');
    await queue.wakeApply(ID);
    await vi.waitFor(() => expect(seen.calls()).toBe(2), { timeout: 20_000, interval: 50 });
  });

  it('a click while the job is still running with the old state: the job runs again once it lets go', async () => {
    let letGo!: () => void;
    const running = new Promise<void>((resolve) => (letGo = resolve));
    const seen = await setUp(async (call) => {
      if (call === 1) await running;
      return weightRequestAt(Date.now(), 'applying', { id: ID });
    });
    await queue.enqueueApply(ID);
    await vi.waitFor(() => expect(seen.calls()).toBe(1), { timeout: 20_000, interval: 50 });
    const woken = queue.wakeApply(ID);
    letGo();
    await woken;
    await vi.waitFor(() => expect(seen.calls()).toBe(2), { timeout: 20_000, interval: 50 });
  });
});
