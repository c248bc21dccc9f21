/**
 * Slack shows an approval message to people before chat.postMessage has answered the bot, so a
 * click can arrive before the bot has recorded the message's ts. The Slack stand-in holds that
 * answer back until the click has been handled, which makes the race happen on every run
 * instead of one run in three.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestStore } from '../../src/store/request-store.js';
import { phases } from '../support/approval-phases.js';
import { ALICE, APPROVALS, BOB, BotHarness, CAROL } from '../support/bot-harness.js';
import type { StoredMessage } from '../support/slack-stand-in.js';

describe('a click that arrives before chat.postMessage has answered the bot', () => {
  let h: BotHarness | undefined;
  let admin: Redis | undefined;
  afterEach(async () => {
    admin?.disconnect();
    await h?.close();
    h = undefined;
    admin = undefined;
  });

  async function start(): Promise<{ h: BotHarness; store: RequestStore }> {
    h = await BotHarness.start();
    admin = new Redis(h.redis.url);
    return { h, store: new RequestStore(admin) };
  }

  /** Starts a request whose approval post is held; returns the message people already see. */
  async function postHeld(h: BotHarness, store: RequestStore, id: number, ask: () => Promise<unknown>): Promise<{ message: StoredMessage; release: () => void }> {
    const held = h.slack.holdAnswerOfNext('chat.postMessage');
    await ask();
    await held.reached;
    const message = h.approvalMessage(id)!;
    expect(phases(message)).toEqual(['requested']);
    // The race is real: Slack shows the message, the bot has not learnt its ts.
    expect((await store.mustGet(id)).message).toBeUndefined();
    return { message, release: () => held.release() };
  }

  it('Approve is honoured, and each state reaches the message once', async () => {
    const { h, store } = await start();
    let cmd!: Awaited<ReturnType<BotHarness['command']>>;
    const { message, release } = await postHeld(h, store, 1, async () => (cmd = await h.command(ALICE, 'api 30')));

    await h.click(BOB, message, 'approve');
    await h.waitForApproval(1, 'Applied and verified');
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    expect(h.slack.ephemerals(BOB)).toEqual([]);
    // The click told the bot where its message is.
    expect((await store.mustGet(1)).message).toEqual({ channel: APPROVALS, ts: message.ts });

    release();
    // The requester learns what already happened, not that it still waits.
    expect(await h.reply(cmd)).toContain(`Request #1 was posted in <#${APPROVALS}> and is already applied`);
    expect(phases(h.approvalMessage(1)!)).toEqual(['requested', 'applying', 'applied']);
    expect((await store.mustGet(1)).message).toEqual({ channel: APPROVALS, ts: message.ts });
    expect(h.slack.messages(APPROVALS)).toHaveLength(1);
  });

  it('on a rollback request, Reject and then Approve are honoured before its post answers', async () => {
    const { h, store } = await start();
    await h.ask(ALICE, 'api 30');
    await h.click(BOB, structuredClone(await h.waitForApproval(1, 'waits for approval')), 'approve');
    const applied = structuredClone(await h.waitForApproval(1, 'Applied and verified'));

    // Carol asks for the rollback by button; Bob rejects it before the bot knows the message's ts.
    const first = await postHeld(h, store, 2, () => h.click(CAROL, applied, 'rollback'));
    await h.click(BOB, first.message, 'reject');
    await h.waitForApproval(2, 'Rejected by <@U0BOB>');
    first.release();
    const told = await h.slack.waitFor(() => h.slack.ephemerals(CAROL).at(-1), 5000, 'answer to the Roll back click');
    expect(told.text).toContain('Request #2 was posted');
    expect(told.text).toContain('is already rejected');
    expect(phases(h.approvalMessage(2)!)).toEqual(['requested', 'rejected']);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });

    // She asks again and approves her own rollback, as fast (self-approval of rollbacks is allowed).
    const second = await postHeld(h, store, 3, () => h.click(CAROL, applied, 'rollback'));
    await h.click(CAROL, second.message, 'approve');
    await h.waitForApproval(3, 'Applied and verified');
    second.release();
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
    expect(phases(h.approvalMessage(3)!)).toEqual(['requested', 'applying', 'applied']);
    expect(h.slack.ephemerals(CAROL).filter((e) => e.text.includes('out of date'))).toEqual([]);
    expect(h.r53.appliedBatches).toHaveLength(2);
  });
});
