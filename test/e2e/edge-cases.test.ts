import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, baseConfig, BOB, BotHarness, buttonLabels, CAROL, findButton, MALLORY } from '../support/bot-harness.js';
import { renderedText, type StoredMessage } from '../support/slack-stand-in.js';

/** A copy of the message whose buttons all carry `value`. */
function withButtonValues(m: StoredMessage, value: string): StoredMessage {
  const blocks = structuredClone(m.blocks).map((b) => (b.type === 'actions' ? { ...b, elements: (b.elements as object[]).map((e) => ({ ...e, value })) } : b));
  return { ...m, blocks };
}

describe('edge cases around buttons and partial failures', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a button that names the request but not its key (a message from before a Redis data loss) changes nothing', async () => {
    h = await BotHarness.start();
    await h.ask(ALICE, 'api 30');
    const real = structuredClone(await h.waitForApproval(1, 'waits for approval'));
    const value = findButton(real, 'approve')!.value;
    expect(value).toMatch(/^1\.[\w-]{16}$/);
    // The same buttons, drawn for an earlier request #1, on another message.
    const other = withButtonValues({ ...real, ts: '1600000000.000001' }, '1.AAAAAAAAAAAAAAAA');
    await h.click(BOB, other, 'approve');
    const refusal = await h.slack.waitFor(() => h!.slack.ephemerals(BOB).at(-1), 5000, 'refusal');
    expect(refusal.text).toContain('This message is out of date: it is not the approval message of request #1');
    // A bare number (a button from before keys existed) does not pass for a keyed request either.
    await h.click(BOB, withButtonValues(real, '1'), 'reject');
    await h.slack.waitFor(() => h!.slack.ephemerals(BOB).length === 2, 5000, 'second refusal');
    // Nor does a value this bot never makes.
    await h.click(BOB, withButtonValues(real, 'drop table'), 'approve');
    const third = await h.slack.waitFor(() => h!.slack.ephemerals(BOB)[2], 5000, 'third refusal');
    expect(third.text).toContain('This message is out of date: it is not the approval message of any request');
    expect(buttonLabels(h.approvalMessage(1)!)).toEqual(['Approve', 'Reject']);
    expect(h.r53.appliedBatches).toHaveLength(0);
    await h.click(BOB, real, 'approve');
    await h.waitForApproval(1, 'Applied and verified');
  });

  it('buttons posted before keys existed still act, on their own message only', async () => {
    h = await BotHarness.start();
    await h.ask(ALICE, 'api 30');
    const m = structuredClone(await h.waitForApproval(1, 'waits for approval'));
    // Make request #1 look as an older version stored it: no key, buttons carrying the bare number.
    const admin = new Redis(h.redis.url);
    try {
      const { buttonKey: _dropped, ...legacy } = JSON.parse((await admin.get('strangler:request:1'))!) as Record<string, unknown>;
      expect(_dropped).toEqual(expect.any(String));
      await admin.set('strangler:request:1', JSON.stringify(legacy));
    } finally {
      admin.disconnect();
    }
    const old = withButtonValues(m, '1');
    await h.click(BOB, { ...old, ts: '1600000000.000001' }, 'approve');
    const refusal = await h.slack.waitFor(() => h!.slack.ephemerals(BOB).at(-1), 5000, 'refusal');
    expect(refusal.text).toContain('This message is out of date');
    await h.click(BOB, old, 'approve');
    await h.waitForApproval(1, 'Applied and verified');
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
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

  it('only the latest change of a service can be rolled back; a split of 0/0 is never restored', async () => {
    h = await BotHarness.start();
    h.r53.setWeight('Z0123456789ABC', 'web.example.com', 'CNAME', 'ec2', 0); // web starts at 0/0
    await h.ask(ALICE, 'web 20');
    await h.click(BOB, structuredClone(await h.waitForApproval(1, 'waits for approval')), 'approve');
    const first = structuredClone(await h.waitForApproval(1, 'Applied and verified'));
    await h.ask(ALICE, 'web 40');
    await h.click(BOB, structuredClone(await h.waitForApproval(2, 'waits for approval')), 'approve');
    await h.waitForApproval(2, 'Applied and verified');

    await h.click(CAROL, first, 'rollback');
    const old = await h.slack.waitFor(() => h!.slack.ephemerals(CAROL).at(-1), 5000, 'answer to the old Roll back');
    expect(old.text).toContain('Request #1 cannot be rolled back: a later change, #2, was applied since.');

    // Rolling back #2 goes to 20/80; then #3 (that rollback) is the latest, and #1 still is not.
    await h.ask(CAROL, 'web rollback');
    await h.click(BOB, structuredClone(await h.waitForApproval(3, 'waits for approval')), 'approve');
    await h.waitForApproval(3, 'Applied and verified');
    expect(h.weights('web')).toEqual({ kubernetes: 20, ec2: 80 });
    const again = await h.ask(ALICE, 'web rollback');
    expect(again).toContain('Request #4 is waiting');
    await h.ask(ALICE, 'cancel 4');
    await h.click(CAROL, first, 'rollback');
    await h.slack.waitFor(() => h!.slack.ephemerals(CAROL).filter((e) => e.text.includes('cannot be rolled back')).length === 2, 5000, 'second refusal');
    expect(h.r53.appliedBatches).toHaveLength(3);
  });

  it('rolling back to a 0/0 pair is refused up front', async () => {
    h = await BotHarness.start();
    h.r53.setWeight('Z0123456789ABC', 'web.example.com', 'CNAME', 'ec2', 0);
    await h.ask(ALICE, 'web 20');
    await h.click(BOB, structuredClone(await h.waitForApproval(1, 'waits for approval')), 'approve');
    await h.waitForApproval(1, 'Applied and verified');
    const reply = await h.ask(ALICE, 'web rollback');
    expect(reply).toContain('Request #1 cannot be rolled back: before it both weights were 0');
    expect(reply).toContain('/strangle web 50');
  });

  it('a request past its expiry cannot be approved even when no worker has expired it yet', async () => {
    const base = baseConfig() as { slack: Record<string, unknown> };
    h = await BotHarness.start({ roles: ['web'], config: { ...base, slack: { ...base.slack, approvalTimeoutMinutes: 0.01 } } });
    await h.ask(ALICE, 'api 30');
    const m = structuredClone(await h.waitForApproval(1, 'waits for approval'));
    const admin = new Redis(h.redis.url);
    const { expiresAt } = JSON.parse((await admin.get('strangler:request:1'))!) as { expiresAt: number };
    admin.disconnect();
    await h.slack.waitFor(() => Date.now() > expiresAt, 5000, 'request #1 to be past its expiry');
    await h.click(BOB, m, 'approve');
    const refusal = await h.slack.waitFor(() => h!.slack.ephemerals(BOB).at(-1), 5000, 'refusal');
    expect(refusal.text).toContain('Request #1 is already expired');
    expect(buttonLabels(await h.waitForApproval(1, 'Expired'))).toEqual([]);
    expect(await h.ask(ALICE, 'api 30')).toContain('Request #2 is waiting');
  });
});
