/**
 * Replays and forgeries against /slack/events. Anyone who captured one signed request (a proxy
 * log, a leaked HAR) can send it again; the signature binds body and timestamp, and Bolt refuses
 * timestamps older than 5 minutes. Whatever is refused must leave no trace: no Slack call, no
 * Route 53 call, no state change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, APPROVALS, BOB, BotHarness, findButton, OPS, SIGNING_SECRET } from '../support/bot-harness.js';
import { blockActionPayload, FORM_CONTENT_TYPE, postSlackRaw, signSlackRequest, slashCommandFields } from '../support/slack-requests.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import { openRequest } from './support/faults.js';

const SIX_MINUTES = 6 * 60;
const now = () => Math.floor(Date.now() / 1000);

interface Trace {
  slackCalls: number;
  route53Calls: number;
  history: string;
}

describe('replayed and forged Slack requests', () => {
  let h: BotHarness;
  let requestId: number;
  let approval: StoredMessage;

  beforeAll(async () => {
    h = await BotHarness.start();
    requestId = await openRequest(h, ALICE, 'api 30');
    approval = await h.waitForApproval(requestId, 'waits for approval');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function trace(): Promise<Trace> {
    // history reads Redis; asking it adds Slack calls of its own, so count those first.
    const slackCalls = h.slack.calls.length;
    const route53Calls = h.r53.calls.length;
    const history = await h.ask(ALICE, 'history');
    return { slackCalls, route53Calls, history };
  }

  async function expectUntouched(before: Trace): Promise<void> {
    // A later, genuine command answered is the sign that the bot has handled what it received
    // before it: count only once its reply is in.
    const history = await h.ask(ALICE, 'history');
    expect(h.slack.calls.length, h.slack.describeRecentCalls()).toBe(before.slackCalls + 2); // the two history replies
    expect(h.r53.calls.length).toBe(before.route53Calls);
    expect(history).toBe(before.history);
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
    expect(h.approvalMessage(requestId)!.versions).toHaveLength(1);
  }

  function commandBody(text: string, responseId: string): string {
    return new URLSearchParams(
      slashCommandFields({ text, userId: ALICE, channelId: OPS, responseUrl: h.slack.responseUrl(responseId) }),
    ).toString();
  }

  function approveBody(): string {
    const button = findButton(approval, 'approve')!;
    const payload = blockActionPayload({
      userId: BOB,
      channelId: APPROVALS,
      messageTs: approval.ts,
      actionId: 'approve',
      value: button.value,
      responseUrl: h.slack.responseUrl('replayed-click'),
      message: { text: approval.text, blocks: approval.blocks },
    });
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  function send(body: string, headers: Record<string, string>) {
    return postSlackRaw(h.baseUrl, { body, headers: { 'Content-Type': FORM_CONTENT_TYPE, ...headers } });
  }

  it('an approve click captured more than 5 minutes ago is refused with 401, body and signature intact', async () => {
    const before = await trace();
    const body = approveBody();
    const res = await send(body, { ...signSlackRequest(SIGNING_SECRET, body, now() - SIX_MINUTES) });
    expect(res.status).toBe(401);
    await expectUntouched(before);
  });

  it('a slash command captured more than 5 minutes ago is refused with 401', async () => {
    const before = await trace();
    const body = commandBody('web 100', 'replayed-command');
    const res = await send(body, { ...signSlackRequest(SIGNING_SECRET, body, now() - SIX_MINUTES) });
    expect(res.status).toBe(401);
    await expectUntouched(before);
    expect(h.slack.responses('replayed-command')).toHaveLength(0);
  });

  it('a captured request re-sent with a fresh timestamp but its old signature is refused', async () => {
    const before = await trace();
    const body = approveBody();
    const captured = signSlackRequest(SIGNING_SECRET, body, now() - SIX_MINUTES);
    const res = await send(body, { 'X-Slack-Signature': captured['X-Slack-Signature'], 'X-Slack-Request-Timestamp': String(now()) });
    expect(res.status).toBe(401);
    await expectUntouched(before);
  });

  it('a fresh signature over a different body (tampered text) is refused', async () => {
    const before = await trace();
    const signed = signSlackRequest(SIGNING_SECRET, commandBody('api 30', 'tampered'));
    const res = await send(commandBody('web 100', 'tampered'), { ...signed });
    expect(res.status).toBe(401);
    await expectUntouched(before);
    expect(h.slack.responses('tampered')).toHaveLength(0);
  });

  it.each([
    ['a wrong secret', (body: string) => signSlackRequest('not-the-signing-secret', body)],
    ['a corrupted digest', (body: string) => {
      const s = signSlackRequest(SIGNING_SECRET, body);
      return { ...s, 'X-Slack-Signature': s['X-Slack-Signature'].replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
    }],
    ['no signature at all', (): Record<string, string> => ({})],
    ['a timestamp that is not a number', (body: string) => ({ ...signSlackRequest(SIGNING_SECRET, body), 'X-Slack-Request-Timestamp': 'yesterday' })],
  ])('an approve click with %s is refused', async (_what, headersFor) => {
    const before = await trace();
    const body = approveBody();
    const res = await send(body, { ...headersFor(body) });
    expect(res.status).toBe(401);
    await expectUntouched(before);
  });

  it('a replay inside the 5-minute window is accepted by Bolt but cannot apply a change twice', async () => {
    const click = await h.click(BOB, approval, 'approve');
    expect(click.status).toBe(200);
    await h.waitForApproval(requestId, 'Applied and verified');
    const replay = await postSlackRaw(h.baseUrl, click.request);
    expect(replay.status).toBe(200);
    const refusal = await h.slack.waitFor(() => h.slack.ephemerals(BOB).find((e) => e.text.includes(`Request #${requestId} is already applied`)), 5000, 'refusal of the replayed click');
    expect(refusal.text).toContain('nothing changed');
    expect(h.r53.appliedBatches).toHaveLength(1);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
  });
});
