/**
 * The bot dies in the middle of applying several changes at once: some batches already in
 * Route 53 and waiting for INSYNC, one queued behind another on the same hosted zone's lock.
 * The replacement must finish every change exactly once and leave every message saying so.
 *
 * In-process, `stop({ force: true })` is the closest thing to SIGKILL: the worker drops its jobs
 * without finishing them and the connections close, so the BullMQ job locks and the zone lock
 * are left for the next process to find.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, BOT_TOKEN, BotHarness, CAROL, SIGNING_SECRET, TEST_TUNING_ENV, ZONE } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';
import { type ChildBot, startChildBot } from './support/child-bot.js';
import { batchesFor, configWith, expectForwardOnly, openRequest, seedServices, weightsOf, type ExtraService } from './support/faults.js';

// api, pay and web share the harness's zone, so two of them queue behind the zone lock; auth and
// mail have a zone each, so three batches are in Route 53 at the moment of the crash.
const EXTRA: ExtraService[] = [
  { name: 'pay' },
  { name: 'auth', zone: 'Z0AUTHZONE0001' },
  { name: 'mail', zone: 'Z0MAILZONE0001' },
];
const TARGETS: Array<{ service: string; to: number }> = [
  { service: 'api', to: 35 },
  { service: 'pay', to: 30 },
  { service: 'auth', to: 25 },
  { service: 'mail', to: 20 },
  { service: 'web', to: 60 },
];

const serviceOf = (name: string): ExtraService | string => EXTRA.find((e) => e.name === name) ?? name;

describe('crash during apply', () => {
  let h: BotHarness | undefined;
  const children: ChildBot[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill()));
    await h?.close();
    h = undefined;
  });

  it('several changes in flight on different services and zones: each is applied exactly once after a crash', async () => {
    h = await BotHarness.start({ config: configWith(EXTRA) });
    seedServices(h, EXTRA);
    const ids: number[] = [];
    for (const t of TARGETS) ids.push(await openRequest(h, ALICE, `${t.service} ${t.to}`));
    const messages = await Promise.all(ids.map((id) => h!.waitForApproval(id, 'waits for approval')));

    h.r53.pendingPolls = 1_000_000; // INSYNC never comes while the first bot lives
    await Promise.all(messages.map((m, i) => h!.click(i % 2 ? BOB : CAROL, m, 'approve')));
    // Three zones, so three batches can be submitted; the other changes wait on a zone's lock.
    await h.slack.waitFor(() => h!.r53.appliedBatches.length === 3, 10_000, 'a batch per hosted zone to reach Route 53');
    await Promise.all(ids.map((id) => h!.waitForApproval(id, 'applying')));
    const inFlight = new Set(h.r53.appliedBatches.map((b) => b.zoneId));
    expect(inFlight.size).toBe(3);

    await h.bot.stop({ force: true });
    for (const id of ids) expect(renderedText(h.approvalMessage(id)!)).toContain('applying');

    h.r53.pendingPolls = 0;
    await h.startBot();
    await Promise.all(ids.map((id) => h!.waitForApproval(id, 'Applied and verified', 25_000)));

    for (const t of TARGETS) {
      expect(weightsOf(h, serviceOf(t.service)), t.service).toEqual({ kubernetes: t.to, ec2: 100 - t.to });
      expect(batchesFor(h, t.service), `${t.service} batches`).toBe(1);
    }
    expect(h.r53.appliedBatches).toHaveLength(TARGETS.length);
    for (const id of ids) expectForwardOnly(h.approvalMessage(id)!, 'applied');
    // The zone locks were handed over, not waited out: a second round on the same zone goes through.
    const next = await openRequest(h, ALICE, 'api 45');
    await h.click(BOB, await h.waitForApproval(next, 'waits for approval'), 'approve');
    await h.waitForApproval(next, 'Applied and verified', 10_000);
    expect(h.weights('api')).toEqual({ kubernetes: 45, ec2: 55 });
  });

  it('a crash while the jobs wait for a zone lock another replica holds loses none of them', async () => {
    h = await BotHarness.start({ config: configWith(EXTRA) });
    seedServices(h, EXTRA);
    const targets = TARGETS.filter((t) => ['api', 'pay', 'web'].includes(t.service));
    const ids: number[] = [];
    for (const t of targets) ids.push(await openRequest(h, ALICE, `${t.service} ${t.to}`));
    const messages = await Promise.all(ids.map((id) => h!.waitForApproval(id, 'waits for approval')));

    // Another replica mid-change on the zone: every job is taken and waiting, none has read or written.
    const redis = new Redis(h.redis.url);
    try {
      await redis.set(`strangler:zone-lock:${ZONE}`, 'request-elsewhere', 'PX', 60_000);
      const listsBefore = h.r53.countCalls('ListResourceRecordSets');
      await Promise.all(messages.map((m) => h!.click(BOB, m, 'approve')));
      await Promise.all(ids.map((id) => h!.waitForApproval(id, 'applying')));
      // A job records "applying" as it starts, just before it asks for the zone lock; the message
      // says "applying" as soon as the click is taken, so it cannot tell that the jobs have started.
      const statuses = async () => Promise.all(ids.map(async (id) => (JSON.parse((await redis.get(`strangler:request:${id}`))!) as { status: string }).status));
      await h.slack.waitFor(async () => (await statuses()).every((s) => s === 'applying'), 10_000, 'every job to have started');
      expect(h.r53.countCalls('ListResourceRecordSets')).toBe(listsBefore);
      expect(h.r53.appliedBatches).toHaveLength(0);
      await h.bot.stop({ force: true });

      await redis.del(`strangler:zone-lock:${ZONE}`);
      await h.startBot();
      await Promise.all(ids.map((id) => h!.waitForApproval(id, 'Applied and verified', 25_000)));
    } finally {
      redis.disconnect();
    }
    for (const t of targets) {
      expect(weightsOf(h, serviceOf(t.service)), t.service).toEqual({ kubernetes: t.to, ec2: 100 - t.to });
      expect(batchesFor(h, t.service), `${t.service} batches`).toBe(1);
    }
    for (const id of ids) expectForwardOnly(h.approvalMessage(id)!, 'applied');
  });

  it('SIGKILL of a real bot process mid-apply: a new process finishes every change exactly once', async () => {
    const config = configWith(EXTRA);
    // The harness provides the outside world only; the bot is an OS process it sends Slack traffic to.
    h = await BotHarness.start({ config, noBot: true });
    seedServices(h, EXTRA);
    const spawnBot = async () => {
      const child = await startChildBot({
        config,
        redisUrl: h!.redis.url,
        slackApiUrl: h!.slack.apiUrl,
        signingSecret: SIGNING_SECRET,
        botToken: BOT_TOKEN,
        env: { ...TEST_TUNING_ENV, AWS_ENDPOINT_URL_ROUTE_53: h!.r53.url, LOG_LEVEL: 'silent' },
      });
      children.push(child);
      h!.endpoint = child.baseUrl;
      return child;
    };
    const first = await spawnBot();

    const targets = TARGETS.filter((t) => ['api', 'auth', 'mail'].includes(t.service));
    const ids: number[] = [];
    for (const t of targets) ids.push(await openRequest(h, ALICE, `${t.service} ${t.to}`));
    const messages = await Promise.all(ids.map((id) => h!.waitForApproval(id, 'waits for approval')));
    h.r53.pendingPolls = 1_000_000;
    await Promise.all(messages.map((m) => h!.click(CAROL, m, 'approve')));
    await h.slack.waitFor(() => h!.r53.appliedBatches.length === targets.length, 10_000, 'every batch to reach Route 53');

    await first.kill();
    expect(first.process.signalCode).toBe('SIGKILL');
    // Once the stand-in has seen every socket of the dead process close, whatever it sent before
    // dying has been read and logged: count from there.
    await h.slack.waitFor(async () => (await h!.r53.openConnections()) === 0, 10_000, "the killed bot's Route 53 connections to close");
    const callsAtDeath = h.r53.calls.length;
    // Negative check, nothing to wait for (a live bot would poll GetChange every 50 ms): a slow run can only miss a call, never fail.
    await new Promise((r) => setTimeout(r, 200));
    expect(h.r53.calls.length, 'a killed process makes no more calls').toBe(callsAtDeath);
    h.r53.pendingPolls = 0;
    await spawnBot();
    await Promise.all(ids.map((id) => h!.waitForApproval(id, 'Applied and verified', 25_000)));
    for (const t of targets) {
      expect(weightsOf(h, serviceOf(t.service)), t.service).toEqual({ kubernetes: t.to, ec2: 100 - t.to });
      expect(batchesFor(h, t.service), `${t.service} batches`).toBe(1);
    }
    for (const id of ids) expectForwardOnly(h.approvalMessage(id)!, 'applied');
  });
});
