/**
 * Bugs in src/ found by the fault suite and not fixed yet, each pinned by a test that asserts
 * what the bot does TODAY. It passes while the bug is there; once fixed, it fails at the line
 * marked `BUG:`: turn that expectation around (the comment says into what) and move the test
 * next to its topic (redis-restart.test.ts).
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestStore } from '../../src/store/request-store.js';
import { ALICE, BOB, BotHarness } from '../support/bot-harness.js';
import type { RedisServer } from '../support/redis-server.js';
import { renderedText } from '../support/slack-stand-in.js';
import { usePersistentRedis } from './support/persistent-redis.js';
import { openRequest, waitReady } from './support/faults.js';

describe('known bugs (each test asserts the current, wrong behaviour)', () => {
  let h: BotHarness | undefined;
  let persistent: RedisServer | undefined;
  afterEach(async () => {
    await h?.close();
    await persistent?.stop();
    h = undefined;
    persistent = undefined;
    vi.restoreAllMocks();
  });

  it('after Redis loses its data the sweep is gone, so an approval it promised to queue is never applied', async () => {
    // BullMQ console.errors reconnect failures (no 'error' listener on the Queue); not Slack-bound.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    h = await BotHarness.start({ env: { STRANGLER_SWEEP_EVERY_MS: '300' } });
    const redis = (persistent = await usePersistentRedis(h));
    const admin = new Redis(h.redis.url);
    try {
      // Redis loses everything under a running bot (a failover to an empty replica, a flush).
      // src/bot.ts calls queue.scheduleSweep() / scheduleDrift() only in startBot, so the job
      // schedulers that lived in Redis are gone until the next process start.
      await admin.flushall();
      await new Promise((r) => setTimeout(r, 500));
      expect(await admin.keys('bull:strangler-changes:repeat*')).toEqual([]);

      // A later Redis blip between recording an approval and queueing its job.
      const id = await openRequest(h, ALICE, 'api 30');
      const m = await h.waitForApproval(id, 'waits for approval');
      h.slack.delayNext('chat.update', 1000);
      await h.click(BOB, m, 'approve');
      await h.slack.waitFor(() => h!.slack.callsTo('chat.update').length === 1, 5000, 'the applying update');
      await redis.stop();
      const whisper = await h.slack.waitFor(() => h!.slack.ephemerals(BOB).at(-1), 10_000, 'answer to the click');
      expect(whisper.text).toContain('It will be applied automatically once the store is back; no need to click again.');
      await redis.start();
      await waitReady(h);

      // Twenty sweep intervals: plenty for a sweep to have queued it.
      await new Promise((r) => setTimeout(r, 6000));
      const r = await new RequestStore(admin).get(id);
      // BUG: expect 'applied' (the sweep re-queues approved requests), as the answer promised.
      // Fix idea: re-create the schedulers when the connection comes back (or on every sweep/
      // drift tick of any replica), e.g. upsertJobScheduler on ioredis 'ready'.
      expect(r?.status).toBe('approved');
      expect(h.r53.appliedBatches).toHaveLength(0);
      expect(renderedText(h.approvalMessage(id)!)).toContain('applying');
      expect(await admin.keys('bull:strangler-changes:repeat*')).toEqual([]);

      // Only the sweep is missing: the worker itself runs, and a click that queues its job applies.
      const other = await openRequest(h, ALICE, 'web 50');
      await h.click(BOB, await h.waitForApproval(other, 'waits for approval'), 'approve');
      await h.waitForApproval(other, 'Applied and verified', 10_000);
      expect((await new RequestStore(admin).get(id))?.status).toBe('approved');
    } finally {
      admin.disconnect();
    }
  });
});
