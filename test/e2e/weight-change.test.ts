import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phases } from '../support/approval-phases.js';
import { renderedText } from '../support/slack-stand-in.js';
import { ALICE, APPROVALS, BOB, BotHarness, buttonLabels, CAROL } from '../support/bot-harness.js';

describe('/strangle api 30: request, approve, apply, roll back', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await BotHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shifts the split through approval and rolls it back by button', async () => {
    const reply = await h.ask(ALICE, 'api 30 canary looks good');
    expect(reply).toContain('Request #1 is waiting for approval');
    expect(reply).toContain('api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%');

    const asked = await h.waitForApproval(1, 'waits for approval');
    expect(asked.channel).toBe(APPROVALS);
    expect(buttonLabels(asked)).toEqual(['Approve', 'Reject']);
    expect(renderedText(asked)).toContain('canary looks good');
    expect(renderedText(asked)).toContain('<@U0ALICE>');
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });

    const res = await h.click(BOB, asked, 'approve');
    expect(res.status).toBe(200);
    await h.waitForApproval(1, 'Approved by <@U0BOB>, applying');
    const applied = await h.waitForApproval(1, 'Applied and verified');
    expect(renderedText(applied)).toContain('api now serves Kubernetes 30% · EC2 70%');
    expect(renderedText(applied)).toMatch(/Took \d+ s from approval/);
    expect(buttonLabels(applied)).toEqual(['Roll back']);
    // Each state reaches the message once: the web side says "applying…", the worker does not repeat it.
    expect(phases(applied)).toEqual(['requested', 'applying', 'applied']);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    // One batch, DELETE exactly as read + CREATE with the new weight, never UPSERT.
    const batches = h.r53.appliedBatches;
    expect(batches).toHaveLength(1);
    expect(batches[0]!.changes.map((c) => c.action).sort()).toEqual(['CREATE', 'CREATE', 'DELETE', 'DELETE']);
    const alias = h.r53.getRecord('Z0123456789ABC', 'api.example.com', 'A', 'primary');
    expect(alias?.AliasTarget?.DNSName).toBe('k8s-lb.elb.amazonaws.com.');
    expect(h.r53.countCalls('GetChange')).toBeGreaterThanOrEqual(2);

    await h.click(CAROL, applied, 'rollback');
    const rollback = await h.waitForApproval(2, 'waits for approval');
    expect(renderedText(rollback)).toContain('rollback of #1');
    expect(renderedText(rollback)).toContain('api: Kubernetes 30% · EC2 70% → Kubernetes 10% · EC2 90%');
    // The one who asked for a rollback may approve it: alone at night, undo must not wait.
    await h.click(CAROL, rollback, 'approve');
    await h.waitForApproval(2, 'Applied and verified');
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });

    const history = await h.ask(ALICE, 'history api');
    expect(history).toMatch(/#2\* .*rollback of #1.*approved by <@U0CAROL>.*applied in/);
    expect(history).toMatch(/#1\* .*asked by <@U0ALICE>.*approved by <@U0BOB>.*applied in/);
  });
});
