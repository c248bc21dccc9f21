/**
 * Route 53 under stress: a throttling storm must cost time, never correctness (one batch, both
 * records moved together), and a permanent refusal must end the request with a message that
 * says which permission is missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, BotHarness, buttonLabels, CAROL, ZONE } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';
import { batchesFor, configWith, expectForwardOnly, expectNoInternals, openRequest, seedServices, weightsOf } from './support/faults.js';

/**
 * Samples both weights on every event-loop turn while `until` is pending: a batch that moved one
 * record without the other would show up as a sum other than 100 in at least one sample.
 */
type Pair = { kubernetes: number | undefined; ec2: number | undefined };

async function sampleSums(read: () => Pair | Pair[], until: Promise<unknown>): Promise<Set<number>> {
  const sums = new Set<number>();
  let done = false;
  const settled = until.finally(() => {
    done = true;
  });
  while (!done) {
    for (const w of [read()].flat()) sums.add((w.kubernetes ?? NaN) + (w.ec2 ?? NaN));
    // A sampling interval, not a wait: the loop runs until `until` settles, however long that takes.
    await new Promise((r) => setTimeout(r, 2));
  }
  await settled;
  return sums;
}

/** Every batch strangler sends replaces both records of the pair, never one alone. */
function expectWholePairBatches(h: BotHarness, service: string): void {
  for (const b of h.r53.appliedBatches.filter((x) => x.changes.some((c) => c.record.Name === `${service}.example.com.`))) {
    const touched = b.changes.map((c) => `${c.action} ${c.record.SetIdentifier}`).sort();
    expect(touched).toEqual(['CREATE primary', 'CREATE secondary', 'DELETE primary', 'DELETE secondary']);
    expect(b.changes.filter((c) => c.action === 'CREATE').reduce((sum, c) => sum + (c.record.Weight ?? 0), 0)).toBe(100);
  }
}

describe('Route 53 throttling and refusals', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a throttling storm (6× Throttling, PriorRequestNotComplete, throttled polls) is retried with backoff and applies once, whole', async () => {
    // Three SDK attempts per job attempt makes the storm outlast the SDK's own retries, so the
    // queue's backoff has to carry it too: both retry layers are exercised, in seconds not minutes.
    h = await BotHarness.start({ env: { STRANGLER_ROUTE53_MAX_ATTEMPTS: '3' } });
    const id = await openRequest(h, ALICE, 'api 30');
    const m = await h.waitForApproval(id, 'waits for approval');
    h.r53.failNext('ChangeResourceRecordSets', 'Throttling', 6);
    h.r53.failNext('ChangeResourceRecordSets', 'PriorRequestNotComplete', 1);
    h.r53.failNext('GetChange', 'Throttling', 3);
    const changesBefore = h.r53.countCalls('ChangeResourceRecordSets');

    await h.click(BOB, m, 'approve');
    const applied = h.waitForApproval(id, 'Applied and verified', 25_000);
    const sums = await sampleSums(() => h!.weights('api'), applied);

    expect([...sums]).toEqual([100]);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    expect(h.r53.appliedBatches).toHaveLength(1);
    expectWholePairBatches(h, 'api');
    // 7 refused + the one that landed: nothing was submitted twice.
    expect(h.r53.countCalls('ChangeResourceRecordSets') - changesBefore).toBe(8);
    const calls = h.r53.calls.filter((c) => c.operation === 'ChangeResourceRecordSets');
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    // Backoff, not a hot loop: the storm took a while to ride out.
    expect(gaps.reduce((a, b) => a + b, 0)).toBeGreaterThan(500);
    expectForwardOnly(h.approvalMessage(id)!, 'applied');
  });

  it('several services applying at once against a 5 requests/s account limit each land once, whole', async () => {
    const extra = ['pay', 'search', 'auth', 'mail'].map((name, i) => ({ name, zone: i % 2 ? ZONE : 'Z0SECONDZONE1' }));
    h = await BotHarness.start({ config: configWith(extra), env: { STRANGLER_ROUTE53_MAX_ATTEMPTS: '4' } });
    seedServices(h, extra);
    const ids = [];
    for (const s of extra) ids.push(await openRequest(h, ALICE, `${s.name} 35`));
    const messages = await Promise.all(ids.map((id) => h!.waitForApproval(id, 'waits for approval')));

    h.r53.rateLimit(5);
    const throttledBefore = h.r53.calls.filter((c) => c.status === 400).length;
    await Promise.all(messages.map((m, i) => h!.click(i % 2 ? BOB : CAROL, m, 'approve')));
    // Status reads share the same budget while the worker writes.
    const statuses = await Promise.all([h.ask(ALICE, 'status'), h.ask(CAROL, 'status')]);
    const done = Promise.all(ids.map((id) => h!.waitForApproval(id, 'Applied and verified', 25_000)));
    const sums = await sampleSums(() => extra.map((s) => weightsOf(h!, s)), done);

    expect([...sums]).toEqual([100]);
    for (const s of extra) {
      expect(weightsOf(h, s), s.name).toEqual({ kubernetes: 35, ec2: 65 });
      expect(batchesFor(h, s.name), `${s.name} batches`).toBe(1);
      expectWholePairBatches(h, s.name);
    }
    for (const id of ids) expectForwardOnly(h.approvalMessage(id)!, 'applied');
    // The limit did bite (otherwise this test proves nothing), and status still answered.
    expect(h.r53.calls.filter((c) => c.status === 400).length).toBeGreaterThan(throttledBefore);
    for (const s of statuses) {
      expect(s).toMatch(/Status of \d+ service|Route 53 kept throttling/);
      expectNoInternals(s);
    }
  });

  it('AccessDenied on ChangeResourceRecordSets ends the request at once with a message that names the permission', async () => {
    h = await BotHarness.start();
    const id = await openRequest(h, ALICE, 'api 30');
    const m = await h.waitForApproval(id, 'waits for approval');
    h.r53.failNext('ChangeResourceRecordSets', 'AccessDenied', 1);
    const changesBefore = h.r53.countCalls('ChangeResourceRecordSets');

    await h.click(BOB, m, 'approve');
    const failed = await h.waitForApproval(id, 'Failed', 10_000);
    const text = renderedText(failed);
    expect(text).toContain('may not call route53:ChangeResourceRecordSets on hosted zone Z0123456789ABC (AccessDenied)');
    expect(text).toContain('Grant route53:ListResourceRecordSets, route53:ChangeResourceRecordSets and route53:GetChange');
    expectNoInternals(text);
    expectForwardOnly(failed, 'failed');
    // A refusal is final: not retried by the SDK (its retries would all come before "Failed")…
    expect(h.r53.countCalls('ChangeResourceRecordSets') - changesBefore).toBe(1);
    expect(h.r53.appliedBatches).toHaveLength(0);
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
    // The service is free again for a request once the permission is fixed.
    const next = await openRequest(h, ALICE, 'api 30');
    await h.click(BOB, await h.waitForApproval(next, 'waits for approval'), 'approve');
    await h.waitForApproval(next, 'Applied and verified', 10_000);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    // …nor by the queue: with the next request through the same queue and applied, still only the
    // refused call and the one that landed.
    expect(h.r53.countCalls('ChangeResourceRecordSets') - changesBefore).toBe(2);
    expect(h.r53.appliedBatches).toHaveLength(1);
  });

  it('AccessDenied after the batch landed (on GetChange) says the new split may be live, and offers Roll back', async () => {
    h = await BotHarness.start();
    const id = await openRequest(h, ALICE, 'api 30');
    h.r53.failNext('GetChange', 'AccessDenied', 1);
    await h.click(BOB, await h.waitForApproval(id, 'waits for approval'), 'approve');
    const failed = await h.waitForApproval(id, 'Failed', 10_000);
    const text = renderedText(failed);
    // "Failed" alone would read as "nothing happened", while Route 53 now serves the new split.
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    expect(text).toMatch(/Route 53 accepted the change \(C\w+\), so the new split may be in effect/);
    expect(text).toContain('may not call route53:GetChange (AccessDenied)');
    expect(buttonLabels(failed)).toEqual(['Roll back']);
    expectNoInternals(text);
    expectForwardOnly(failed, 'failed');
    expect(await h.ask(ALICE, 'api rollback')).toContain(`Request #${id + 1} is waiting`);
  });
});
