import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestStore } from '../../src/store/request-store.js';
import { renderedText } from '../support/slack-stand-in.js';
import { ALICE, baseConfig, BOB, BotHarness, buttonLabels } from '../support/bot-harness.js';

describe('restarts and expiry', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('buttons posted before a restart still work after it', async () => {
    h = await BotHarness.start();
    await h.ask(ALICE, 'api 30');
    const m = await h.waitForApproval(1, 'waits for approval');
    await h.restartBot();
    await h.click(BOB, m, 'approve');
    await h.waitForApproval(1, 'Applied and verified');
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
  });

  it('a bot that dies while applying is replaced by one that finishes the change exactly once', async () => {
    h = await BotHarness.start();
    h.r53.pendingPolls = 1_000_000; // INSYNC never comes while the first bot is alive
    await h.ask(ALICE, 'api 35');
    const m = await h.waitForApproval(1, 'waits for approval');
    await h.click(BOB, m, 'approve');
    await h.slack.waitFor(() => h!.r53.appliedBatches.length === 1, 8000, 'the batch to reach Route 53');
    await h.bot.stop({ force: true }); // a crash: the job stays active with nobody renewing its lock
    expect(renderedText(h.approvalMessage(1)!)).toContain('applying');
    h.r53.pendingPolls = 0;
    await h.startBot();
    await h.waitForApproval(1, 'Applied and verified', 20_000);
    expect(h.r53.appliedBatches).toHaveLength(1);
    expect(h.weights('api')).toEqual({ kubernetes: 35, ec2: 65 });
  });

  it('a change whose batch landed just before the crash is recognised as applied, not stale', async () => {
    h = await BotHarness.start();
    await h.ask(ALICE, 'api 20');
    await h.waitForApproval(1, 'waits for approval');
    await h.bot.stop();
    // As if a worker had sent the batch and died before recording it: the request is applying
    // without a change id and Route 53 already has the new weights.
    const redis = new Redis(h.redis.url);
    const store = new RequestStore(redis);
    await store.apply(1, { type: 'approve', by: BOB, at: Date.now() });
    await store.apply(1, { type: 'start', at: Date.now() });
    h.r53.setWeight('Z0123456789ABC', 'api.example.com', 'A', 'primary', 20);
    h.r53.setWeight('Z0123456789ABC', 'api.example.com', 'A', 'secondary', 80);
    await h.startBot(); // its start-up sweep finds the request with no job and queues it
    await h.waitForApproval(1, 'Applied and verified', 10_000);
    expect(h.r53.appliedBatches).toHaveLength(0);
    redis.disconnect();
  });

  it('an undecided request expires: the message says so, its buttons go, and late clicks change nothing', async () => {
    h = await BotHarness.start({ config: { ...baseConfig(), slack: { approvalChannel: 'C0APPROVALS', approvers: [BOB], approvalTimeoutMinutes: 0.02 } } });
    await h.ask(ALICE, 'api 30');
    // A copy as the approver's Slack client still shows it, buttons included.
    const m = structuredClone(await h.waitForApproval(1, 'waits for approval'));
    const expired = await h.waitForApproval(1, 'Expired', 8000);
    expect(buttonLabels(expired)).toEqual([]);
    expect(renderedText(expired)).toContain('Nothing changed');
    await h.click(BOB, m, 'approve');
    const late = await h.slack.waitFor(() => h!.slack.ephemerals(BOB).at(-1), 5000, 'late click answer');
    expect(late.text).toContain('Request #1 is already expired');
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
    // The service is free for a new request.
    expect(await h.ask(ALICE, 'api 30')).toContain('Request #2 is waiting');
  });
});
