/**
 * Slack gives the bot 3 s to ack a command or a click; the answer may follow through
 * response_url. So an ack must never wait on Route 53, Redis or Slack: here each of them is held
 * still at its stand-in while the ack comes back. And a burst the bot cannot keep up with is told
 * "busy" in the ack rather than left to pile up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, BotHarness } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';

describe('acks never wait on the outside world', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a status is acked while Route 53 has not answered, and answered once it has', async () => {
    h = await BotHarness.start();
    const held = h.r53.holdNext('ListResourceRecordSets');
    const cmd = await h.command(ALICE, 'status');
    expect(cmd.http.status).toBe(200);
    expect(cmd.http.body.trim()).toBe('');
    await held.reached;
    expect(h.slack.responses(cmd.responseId)).toEqual([]);
    held.release();
    expect(await h.reply(cmd)).toContain('Kubernetes 10% · EC2 90%');
  });

  it('a change request is acked while Slack has not answered its approval post', async () => {
    h = await BotHarness.start();
    const held = h.slack.holdAnswerOfNext('chat.postMessage');
    const cmd = await h.command(ALICE, 'api 30 canary looks fine');
    expect(cmd.http.status).toBe(200);
    await held.reached;
    held.release();
    expect(await h.reply(cmd)).toMatch(/Request #1 is waiting for approval/);
  });

  it('a status is acked while Redis does not answer at all', async () => {
    h = await BotHarness.start();
    // SIGSTOP: the server keeps its sockets open and answers nothing, the worst kind of slow.
    await h.redis.pause();
    try {
      const cmd = await h.command(ALICE, 'status');
      expect(cmd.http.status).toBe(200);
      expect(cmd.http.body.trim()).toBe('');
      await h.redis.resume();
      expect(await h.reply(cmd, 15_000)).toContain('Kubernetes 10% · EC2 90%');
    } finally {
      await h.redis.resume();
    }
  });
});

describe('a burst beyond what the bot can answer', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers "busy" in the ack once the waiting answers reach the bound, reads nothing for it, and answers the rest', async () => {
    // One answer at a time, one waiting: the third command finds the bot full.
    h = await BotHarness.start({ env: { STRANGLER_FOLLOW_UP_CONCURRENCY: '1', STRANGLER_MAX_PENDING_COMMANDS: '1' } });
    const held = h.r53.holdNext('ListResourceRecordSets');
    const first = await h.command(ALICE, 'status');
    await held.reached;
    const second = await h.command(ALICE, 'history');
    const third = await h.command(ALICE, 'status api');
    const listings = h.r53.countCalls('ListResourceRecordSets');

    expect(third.http.status).toBe(200);
    const busy = renderedText(third.http.json<{ text?: string; blocks?: never[] }>());
    expect(busy).toMatch(/working out 1 answers from a burst of commands, so it did not take this one; nothing was read or changed\. Try again in a minute\./);

    held.release();
    expect(await h.reply(first)).toContain('Kubernetes 10% · EC2 90%');
    expect(await h.reply(second)).toMatch(/^No requests yet/);
    // The busy command read nothing: no listing beyond the held one was made for it.
    expect(h.r53.countCalls('ListResourceRecordSets')).toBe(listings);
    expect(h.slack.responses(third.responseId)).toEqual([]);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^strangler_commands_busy_total 1$/m);

    // Room again once the burst has drained.
    expect(await h.ask(ALICE, 'status api')).toContain('Kubernetes 10% · EC2 90%');
  });
});
