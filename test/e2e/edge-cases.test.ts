import { afterEach, describe, expect, it } from 'vitest';
import { renderedText } from '../support/slack-stand-in.js';
import { ALICE, baseConfig, BOB, BotHarness, buttonLabels, CAROL, MALLORY } from '../support/bot-harness.js';

describe('edge cases around buttons and partial failures', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a button on a message that is not the request’s own approval message changes nothing', async () => {
    h = await BotHarness.start();
    await h.ask(ALICE, 'api 30');
    const real = structuredClone(await h.waitForApproval(1, 'waits for approval'));
    // The same buttons on another message (as after Redis lost its data and numbers restarted).
    const other = { ...real, ts: '1600000000.000001' };
    await h.click(BOB, other, 'approve');
    const refusal = await h.slack.waitFor(() => h!.slack.ephemerals(BOB).at(-1), 5000, 'refusal');
    expect(refusal.text).toContain('This message is out of date');
    expect(buttonLabels(h.approvalMessage(1)!)).toEqual(['Approve', 'Reject']);
    expect(h.r53.appliedBatches).toHaveLength(0);
    await h.click(BOB, real, 'approve');
    await h.waitForApproval(1, 'Applied and verified');
  });

  it('a failure after Route 53 accepted the batch says the split may be in effect and offers Roll back', async () => {
    h = await BotHarness.start({ env: { STRANGLER_APPLY_ATTEMPTS: '1' } });
    await h.ask(ALICE, 'api 30');
    const m = await h.waitForApproval(1, 'waits for approval');
    h.r53.failNext('GetChange', 'AccessDenied', 1);
    await h.click(BOB, m, 'approve');
    const failed = await h.waitForApproval(1, 'Failed', 10_000);
    expect(renderedText(failed)).toMatch(/Route 53 accepted the change \(\S+\), so the new split may be in effect/);
    expect(buttonLabels(failed)).toEqual(['Roll back']);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    // It is the rollback point for `/strangle api rollback` too.
    const reply = await h.ask(ALICE, 'api rollback');
    expect(reply).toContain('Request #2 is waiting');
    const rb = await h.waitForApproval(2, 'waits for approval');
    expect(renderedText(rb)).toContain('api: Kubernetes 30% · EC2 70% → Kubernetes 10% · EC2 90%');
    await h.click(CAROL, rb, 'approve');
    await h.waitForApproval(2, 'Applied and verified');
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
  });

  it('approvers may be a Slack user group: its members approve, others do not', async () => {
    const base = baseConfig() as { slack: Record<string, unknown> };
    h = await BotHarness.start({ config: { ...base, slack: { ...base.slack, approvers: ['S0PLATFORM'] } } });
    h.slack.seedUsergroup('S0PLATFORM', ['U0DAVE']);
    await h.ask(ALICE, 'api 30');
    const m = structuredClone(await h.waitForApproval(1, 'waits for approval'));
    await h.click(MALLORY, m, 'approve');
    await h.slack.waitFor(() => h!.slack.ephemerals(MALLORY).find((e) => e.text.includes('You are not an approver')), 5000, 'refusal');
    await h.click('U0DAVE', m, 'approve');
    await h.waitForApproval(1, 'Approved by <@U0DAVE>');
    await h.waitForApproval(1, 'Applied and verified');
    expect(h.slack.callsTo('usergroups.users.list').length).toBeGreaterThanOrEqual(1);
  });
});
