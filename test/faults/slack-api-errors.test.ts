/**
 * Slack's Web API answering 429 (with Retry-After) and 5xx: every message must still arrive,
 * once, and each approval message must move forward only. The dangerous case is an "applying…"
 * update held back by a retry while the worker finishes: it would overwrite "applied".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, APPROVALS, BOB, BotHarness, CAROL } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';
import { batchesFor, configWith, expectForwardOnly, openRequest, phases, seedServices, weightsOf } from './support/faults.js';

const EXTRA = [{ name: 'pay' }];
const SERVICES = ['api', 'web', 'pay'];

describe('Slack Web API rate limits and server errors', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function start(): Promise<BotHarness> {
    // Route 53 confirms at once, so the worker is never the slow part: only Slack's retries are.
    h = await BotHarness.start({ config: configWith(EXTRA) });
    seedServices(h, EXTRA);
    h.r53.pendingPolls = 0;
    return h;
  }

  it('"applying…" updates held back by 429 and 500 still land before "applied", for every request', async () => {
    const h = await start();
    const ids = await Promise.all(SERVICES.map((s) => openRequest(h, ALICE, `${s} 20`)));
    const messages = await Promise.all(ids.map((id) => h.waitForApproval(id, 'waits for approval')));
    h.slack.rateLimitNext('chat.update', 2, 1);
    h.slack.serverErrorNext('chat.update', 1, 503);

    const clicks = await Promise.all(messages.map((m, i) => h.click(i % 2 ? BOB : CAROL, m, 'approve')));
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200]);
    await Promise.all(ids.map((id) => h.waitForApproval(id, 'Applied and verified', 20_000)));
    // Let any update still being retried arrive: it must not be an "applying…".
    // Negative check, no signal to wait for (a correct bot sends nothing more): a slow run can only miss a late update, never fail.
    await new Promise((r) => setTimeout(r, 1500));

    const refused = h.slack.callsTo('chat.update').filter((c) => c.status !== 200);
    expect(refused.map((c) => c.status).sort()).toEqual([429, 429, 503]);
    for (const id of ids) {
      const m = h.approvalMessage(id)!;
      expectForwardOnly(m, 'applied');
      expect(phases(m)).toContain('applying');
    }
    for (const s of SERVICES) {
      expect(weightsOf(h, s), s).toEqual({ kubernetes: 20, ec2: 80 });
      expect(batchesFor(h, s), `${s} batches`).toBe(1);
    }
  });

  it('approval posts and "applied" updates that meet 429 and 5xx arrive once each, in order', async () => {
    const h = await start();
    h.slack.serverErrorNext('chat.postMessage', 1, 500);
    h.slack.rateLimitNext('chat.postMessage', 1, 1);
    const replies = await Promise.all(SERVICES.map((s) => h.ask(ALICE, `${s} 20`, {}, 15_000)));
    for (const r of replies) expect(r).toMatch(/Request #\d+ is waiting for approval/);
    const ids = replies.map((r) => Number(/Request #(\d+)/.exec(r)![1]));
    const messages = await Promise.all(ids.map((id) => h.waitForApproval(id, 'waits for approval')));
    // A retried post must not become a second approval message with live buttons.
    expect(h.slack.messages(APPROVALS)).toHaveLength(SERVICES.length);

    // Hold the worker at INSYNC until every message says "applying…", then fail the "applied" updates.
    h.r53.pendingPolls = 1_000_000;
    await Promise.all(messages.map((m) => h.click(BOB, m, 'approve')));
    await Promise.all(ids.map((id) => h.waitForApproval(id, 'applying', 10_000)));
    h.slack.rateLimitNext('chat.update', 1, 1);
    h.slack.serverErrorNext('chat.update', 1, 500);
    const updatesBefore = h.slack.callsTo('chat.update').length;
    h.r53.pendingPolls = 0;

    await Promise.all(ids.map((id) => h.waitForApproval(id, 'Applied and verified', 20_000)));
    const after = h.slack.callsTo('chat.update').slice(updatesBefore);
    expect(after.filter((c) => c.status !== 200).map((c) => c.status).sort()).toEqual([429, 500]);
    expect(h.slack.callsTo('chat.postMessage').filter((c) => c.status !== 200).map((c) => c.status).sort()).toEqual([429, 500]);
    for (const id of ids) {
      const m = h.approvalMessage(id)!;
      expectForwardOnly(m, 'applied');
      expect(renderedText(m)).toContain('Roll back');
    }
    expect(h.slack.messages(APPROVALS)).toHaveLength(SERVICES.length);
  });
});
