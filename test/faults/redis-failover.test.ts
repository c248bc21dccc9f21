/**
 * Redis behind Sentinel (a master, a replica, three sentinels, all real redis-server processes),
 * and the master SIGKILLed while approvals are being clicked. After Sentinel promotes the replica:
 * every approval the bot acknowledged is applied exactly once, nothing is applied twice, the bot
 * recovers without a restart, and /readyz said "not ready" during the gap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, BotHarness, baseConfig } from '../support/bot-harness.js';
import { startSentinelGroup, type SentinelGroup } from '../support/redis-ha.js';
import { renderedText } from '../support/slack-stand-in.js';

describe('Redis failover under Sentinel', () => {
  let group: SentinelGroup;
  let h: BotHarness;
  beforeAll(async () => {
    group = await startSentinelGroup();
    h = await BotHarness.start({
      config: baseConfig(),
      redis: { kind: 'sentinel', sentinels: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: group.name },
      // The sweep re-queues an approval whose job the failover lost; seconds here, a minute in production.
      env: { STRANGLER_SWEEP_EVERY_MS: '1000' },
    });
  });
  afterAll(async () => {
    await h?.close();
    await group?.stop();
  });

  const readyz = async () => (await fetch(`${h.baseUrl}/readyz`).catch(() => undefined))?.status ?? 0;
  const batchesFor = (record: string) => h.r53.appliedBatches.filter((b) => b.changes.some((c) => c.record.Name.replace(/\.$/, '') === record)).length;

  async function approve(id: number): Promise<void> {
    await h.click(BOB, await h.waitForApproval(id, 'waits for approval'), 'approve');
  }

  it('applies each acknowledged approval exactly once across the failover, and serves again without a restart', async () => {
    expect(await h.ask(ALICE, 'api 30 before the failover')).toContain('Request #1 is waiting');
    await approve(1);
    await h.waitForApproval(1, 'Applied and verified', 20_000);
    expect(await h.ask(ALICE, 'web 40 as the master dies')).toContain('Request #2 is waiting');
    expect(await h.ask(ALICE, 'api 35 clicked during the gap')).toContain('Request #3 is waiting');
    const message3 = await h.waitForApproval(3, 'waits for approval');
    expect(await readyz()).toBe(200);

    // #2 is approved and Bob has been told so ("Approved by …, applying"); then the master dies at
    // once, before its job has run: an acknowledged approval, which must survive the failover.
    await approve(2);
    await h.waitForApproval(2, 'Approved by <@U0BOB>');
    const oldMaster = `127.0.0.1:${group.master.port}`;
    await group.master.kill();
    await h.slack.waitFor(async () => ((await readyz()) === 503 ? true : undefined), 20_000, '/readyz to say not ready while there is no master');

    // #3 is clicked in the gap: either the bot could not take it and told Bob to try again, or
    // Sentinel had already promoted the replica and it was taken. Either way it ends applied once.
    await h.click(BOB, message3, 'approve');
    await h.slack.waitFor(async () => ((await group.currentMaster()) !== oldMaster ? true : undefined), 30_000, 'Sentinel to promote the replica');
    expect(await group.currentMaster()).toBe(`127.0.0.1:${group.replica.port}`);
    await h.slack.waitFor(async () => ((await readyz()) === 200 ? true : undefined), 30_000, '/readyz to be ready again, without a restart');
    const taken = await h.slack.waitFor(
      () => (renderedText(h.approvalMessage(3)!).includes('Approved by <@U0BOB>') ? 'taken' : h.slack.ephemerals(BOB).length > 0 ? 'refused' : undefined),
      20_000,
      'the click on #3 to be taken or refused',
    );
    if (taken === 'refused') {
      expect(h.slack.ephemerals(BOB).map((e) => e.text).join('\n')).toMatch(/Redis|try again|store/i);
      await approve(3);
    }

    await h.waitForApproval(2, 'Applied and verified', 30_000);
    await h.waitForApproval(3, 'Applied and verified', 30_000);
    expect(h.weights('web')).toEqual({ kubernetes: 40, ec2: 60 });
    expect(h.weights('api')).toEqual({ kubernetes: 35, ec2: 65 });

    // The bot carries on: a new request on the new master, approved and applied.
    expect(await h.ask(ALICE, 'web 50 after the failover', {}, 10_000)).toContain('Request #4 is waiting');
    await approve(4);
    await h.waitForApproval(4, 'Applied and verified', 30_000);

    // Exactly once each: api #1 and #3, web #2 and #4; the history written before the failover is there.
    expect(batchesFor('api.example.com')).toBe(2);
    expect(batchesFor('web.example.com')).toBe(2);
    const history = await h.ask(ALICE, 'history', {}, 10_000);
    for (const id of [1, 2, 3, 4]) expect(history).toMatch(new RegExp(`#${id}\\* .*applied in`));
  });
});
