/**
 * The bot over Socket Mode (SLACK_APP_TOKEN set), against a stand-in of Slack's Socket Mode
 * protocol: apps.connections.open, hello, envelopes acked by envelope_id, disconnect and
 * reconnect, redelivery. What works over HTTP works here, and nothing is lost or done twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { phases } from '../support/approval-phases.js';
import { ALICE, APP_TOKEN, APPROVALS, BOB, BotHarness, buttonLabels, CAROL, OPS } from '../support/bot-harness.js';
import { blockActionPayload, slashCommandFields } from '../support/slack-requests.js';
import { findButton } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';

describe('Socket Mode', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('connects with the app token, acks each envelope by its id within 3 s, and runs request → approve → roll back', async () => {
    h = await BotHarness.start({ socketMode: true });
    const opens = h.slack.callsTo('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]!.token).toBe(APP_TOKEN);
    expect(h.socket!.connected).toBe(1);

    const reply = await h.ask(ALICE, 'api 30 canary looks good');
    expect(reply).toContain('Request #1 is waiting for approval');
    const asked = await h.waitForApproval(1, 'waits for approval');
    expect(buttonLabels(asked)).toEqual(['Approve', 'Reject']);

    await h.click(BOB, asked, 'approve');
    const applied = await h.waitForApproval(1, 'Applied and verified', 15_000);
    expect(phases(applied)).toEqual(['requested', 'applying', 'applied']);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });

    await h.click(CAROL, applied, 'rollback');
    const rollback = await h.waitForApproval(2, 'waits for approval');
    await h.click(CAROL, rollback, 'approve');
    await h.waitForApproval(2, 'Applied and verified', 15_000);
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });

    // Every envelope (one command, three clicks) was acked once, by its id, inside Slack’s 3 s.
    expect(h.socket!.acks).toHaveLength(4);
    for (const a of h.socket!.acks) expect(a.ms).toBeLessThan(3000);
    expect(new Set(h.socket!.acks.map((a) => a.envelopeId)).size).toBe(4);
    expect(h.r53.appliedBatches).toHaveLength(2);
  });

  it('an answer that fits in the ack travels in the ack payload', async () => {
    h = await BotHarness.start({ socketMode: true });
    const cmd = await h.command(ALICE, 'frobnicate');
    expect(cmd.http.body).not.toBe('');
    expect(await h.reply(cmd)).toMatch(/frobnicate/);
    // Status is acked empty and answered through response_url, as over HTTP.
    const status = await h.command(ALICE, 'status');
    expect(status.http.body).toBe('');
    expect(await h.reply(status)).toContain('Kubernetes 10% · EC2 90%');
  });

  for (const reason of ['refresh_requested', 'warning'] as const) {
    it(`reconnects after a disconnect (${reason}) and handles what is sent on the new connection`, async () => {
      h = await BotHarness.start({ socketMode: true });
      const socket = h.socket!;
      socket.disconnectAll(reason);
      // The client waits a few seconds before it reconnects (its back-off); generous deadline.
      await h.slack.waitFor(() => (socket.opened === 2 && socket.connected === 1 ? true : undefined), 30_000, 'the bot to reconnect');
      expect(h.slack.callsTo('apps.connections.open')).toHaveLength(2);

      expect(await h.ask(ALICE, 'api 20 after the reconnect')).toContain('Request #1 is waiting for approval');
      const asked = await h.waitForApproval(1, 'waits for approval');
      await h.click(BOB, asked, 'approve');
      await h.waitForApproval(1, 'Applied and verified', 15_000);
      expect(h.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });
    });
  }

  it('an envelope Slack redelivers is acked again but handled once: one request, one apply', async () => {
    h = await BotHarness.start({ socketMode: true });
    const socket = h.socket!;
    const command = slashCommandFields({ text: 'api 30 once only', userId: ALICE, channelId: OPS, responseUrl: h.slack.responseUrl('first') });
    const first = socket.send('slash_commands', command);
    await first.acked;
    await h.waitForApproval(1, 'waits for approval');
    // As Slack does when it thinks the ack was lost: same envelope_id, retry_attempt set.
    await socket.send('slash_commands', command, { envelopeId: first.envelopeId, retryAttempt: 1 }).acked;

    const message = await h.waitForApproval(1, 'waits for approval');
    const button = findButton(message, 'approve')!;
    const click = blockActionPayload({
      userId: BOB,
      channelId: message.channel,
      messageTs: message.ts,
      actionId: 'approve',
      value: button.value,
      responseUrl: h.slack.responseUrl('click'),
      message: { text: message.text, blocks: message.blocks },
    });
    const approve = socket.send('interactive', click);
    await approve.acked;
    await h.waitForApproval(1, 'Applied and verified', 15_000);
    await socket.send('interactive', click, { envelopeId: approve.envelopeId, retryAttempt: 1 }).acked;

    // A marker after the redeliveries: once it is answered, they have been dealt with.
    expect(await h.ask(ALICE, 'history api')).toMatch(/#1\* .*applied in/);
    expect(h.slack.messages(APPROVALS).filter((m) => !m.thread_ts)).toHaveLength(1);
    expect(h.r53.appliedBatches).toHaveLength(1);
    expect(h.slack.responses('first')).toHaveLength(1);
    // The redelivered click was not handled as a second click ("already approved").
    expect(h.slack.ephemerals(BOB)).toEqual([]);
    expect(socket.acks.filter((a) => a.envelopeId === first.envelopeId)).toHaveLength(2);
    expect(renderedText(h.approvalMessage(1)!)).toContain('Applied and verified');
  });
});
