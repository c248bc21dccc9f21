/**
 * Redis losing its data under a running bot (a flush, a failover to an empty replica): the job
 * schedulers that lived in Redis must come back, or the sweep and the drift checks stop silently.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestStore } from '../../src/store/request-store.js';
import { ALICE, BOB, BotHarness } from '../support/bot-harness.js';
import type { RedisServer } from '../support/redis-server.js';
import { renderedText } from '../support/slack-stand-in.js';
import { usePersistentRedis } from './support/persistent-redis.js';
import { openRequest, waitReady } from './support/faults.js';

describe('Redis losing its data under a running bot', () => {
  let h: BotHarness | undefined;
  let persistent: RedisServer | undefined;
  afterEach(async () => {
    await h?.close();
    await persistent?.stop();
    h = undefined;
    persistent = undefined;
  });

  it('the sweep comes back, so an approval it promised to queue is applied', async () => {
    h = await BotHarness.start({ env: { STRANGLER_SWEEP_EVERY_MS: '300' } });
    const redis = (persistent = await usePersistentRedis(h));
    const admin = new Redis(h.redis.url);
    admin.on('error', () => undefined); // this test stops Redis on purpose; the client reconnects
    try {
      // Redis loses everything under a running bot (a failover to an empty replica, a flush).
      await admin.flushall();
      expect(await admin.keys('bull:strangler-changes:repeat*')).toEqual([]);
      // The bot re-creates its job schedulers every sweep interval.
      await h.slack.waitFor(async () => (await admin.keys('bull:strangler-changes:repeat*')).length > 0, 5000, 'the schedulers to come back');

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

      // As the answer promised: the sweep queues it and the worker applies it, once.
      await h.waitForApproval(id, 'Applied and verified', 15_000);
      expect((await new RequestStore(admin).get(id))?.status).toBe('applied');
      expect(h.r53.appliedBatches).toHaveLength(1);
      expect(renderedText(h.approvalMessage(id)!)).not.toContain('applying');
    } finally {
      admin.disconnect();
    }
  });
});
