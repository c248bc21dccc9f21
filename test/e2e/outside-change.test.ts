/**
 * Out-of-band weight changes through the real bot: the Route 53 stand-in's weights are changed
 * "outside the bot" (as the console does), the periodic check alerts once per episode, and the
 * alert's Accept and Restore buttons are clicked through the signed Bolt endpoint.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderedText, type StoredMessage } from '../support/slack-stand-in.js';
import { ALICE, APPROVALS, BOB, baseConfig, BotHarness, buttonLabels, CAROL, MALLORY, ZONE } from '../support/bot-harness.js';

const ALERTS = 'C0ALERTS';
const BASELINES = 'strangler:outside:baseline';

describe('weights changed outside strangler', () => {
  let h: BotHarness;
  let redis: Redis;
  const logLines: string[] = [];

  const alerts = (): StoredMessage[] => h.slack.messages(ALERTS).filter((m) => !m.thread_ts);
  const setApi = (k: number, e: number) => {
    h.r53.setWeight(ZONE, 'api.example.com', 'A', 'primary', k);
    h.r53.setWeight(ZONE, 'api.example.com', 'A', 'secondary', e);
  };
  const baseline = async (service: string) => JSON.parse((await redis.hget(BASELINES, service)) ?? 'null') as { weights: { kubernetes: number; ec2: number }; source: string } | null;
  /** Lets `n` more checks run (each lists the zone), so "no second alert" is judged after real ticks. */
  const ticks = async (n: number) => {
    const lists = h.r53.countCalls('ListResourceRecordSets');
    await h.slack.waitFor(() => h.r53.countCalls('ListResourceRecordSets') >= lists + 2 * n, 10_000, `${n} more checks`);
  };
  const alertSaying = (text: string, count?: number) =>
    h.slack.waitFor(() => {
      const all = alerts();
      const m = all.find((x) => renderedText(x).includes(text));
      return m && (count === undefined || all.length === count) ? m : undefined;
    }, 10_000, `an alert saying "${text}"`);
  const ephemeralFor = (user: string, text: string) =>
    h.slack.waitFor(() => h.slack.ephemerals(user).find((e) => renderedText(e).includes(text)), 8000, `a private answer to ${user} saying "${text}"`);

  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
    const base = baseConfig();
    h = await BotHarness.start({
      noBot: true,
      config: { ...base, slack: { ...(base.slack as object), alertChannel: ALERTS } },
      env: { STRANGLER_OUTSIDE_CHECK_EVERY_MS: '250' },
      log: pino({ level: 'info' }, sink),
    });
    // external-dns's registry record for web (a CNAME: its new-format name is cname-<name>).
    h.r53.putRecord(ZONE, {
      Name: 'cname-web.example.com.',
      Type: 'TXT',
      TTL: 300,
      ResourceRecords: [{ Value: '"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/web/web"' }],
    });
    await h.startBot();
    redis = new Redis(h.redis.url);
    await h.slack.waitFor(async () => (await baseline('api')) && (await baseline('web')), 10_000, 'the first check to record baselines');
  });
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('says at start-up that external-dns claims a managed name, and status warns about it', async () => {
    const warning = await h.slack.waitFor(() => logLines.find((l) => l.includes('"event":"record-claimed"')), 10_000, 'the start-up warning');
    expect(warning).toContain('web.example.com is also claimed by external-dns (owner default, resource service/web/web) through TXT cname-web.example.com');
    expect(logLines.some((l) => l.includes('record-claimed') && l.includes('api.example.com'))).toBe(false);

    // Every start says it again, though Redis already knows the claim (a check only logs new ones).
    const claimed = () => logLines.filter((l) => l.includes('"event":"record-claimed"')).length;
    const before = claimed();
    await h.restartBot();
    await h.slack.waitFor(() => claimed() > before, 10_000, 'the warning after a restart');

    const status = await h.ask(ALICE, 'status');
    expect(status).toMatch(/\*web\*[^*]*also claimed by external-dns \(owner default, resource service\/web\/web\)/s);
    expect(status).not.toMatch(/\*api\*[^*]*claimed/s);
    expect(status).not.toContain('Changed outside strangler');
  });

  it('alerts once per episode, updates the alert in place, and resolves it when the split returns', async () => {
    expect(await baseline('api')).toMatchObject({ weights: { kubernetes: 10, ec2: 90 }, source: 'first-seen' });
    setApi(50, 50);
    const alert = await alertSaying('api*: weights changed outside strangler, 10/90 → 50/50, first seen', 1);
    expect(buttonLabels(alert)).toEqual(['Restore 10/90', 'Accept']);
    await ticks(3);
    expect(alerts()).toHaveLength(1);
    expect(h.slack.messages(ALERTS).find((m) => m.ts === alert.ts)!.versions).toHaveLength(1);

    expect(await h.ask(ALICE, 'status api')).toContain('Changed outside strangler: 10/90 → 50/50');

    setApi(70, 30);
    const updated = await h.slack.waitFor(() => {
      const m = h.slack.message(ALERTS, alert.ts);
      return m && renderedText(m).includes('10/90 → 70/30') ? m : undefined;
    }, 10_000, 'the alert updated in place');
    expect(renderedText(updated)).toContain('changed again');
    expect(alerts()).toHaveLength(1);

    setApi(10, 90);
    const resolved = await h.slack.waitFor(() => {
      const m = h.slack.message(ALERTS, alert.ts);
      return m && renderedText(m).includes('Back at 10/90') ? m : undefined;
    }, 10_000, 'the alert resolved in place');
    expect(renderedText(resolved)).toContain('the split strangler first saw');
    expect(buttonLabels(resolved)).toEqual([]);
    await ticks(2);
    expect(alerts()).toHaveLength(1);
    expect(await h.ask(ALICE, 'status api')).not.toContain('Changed outside strangler');
  });

  it('refuses Accept and Restore from non-approvers, and an old alert, changing nothing', async () => {
    const old = alerts()[0]!;
    setApi(30, 70);
    const alert = await alertSaying('10/90 → 30/70', 2);

    await h.click(MALLORY, alert, 'outside_accept');
    expect(renderedText(await ephemeralFor(MALLORY, 'not an approver'))).toContain('changed nothing');
    await h.click(ALICE, alert, 'outside_restore');
    expect(renderedText(await ephemeralFor(ALICE, 'not an approver'))).toContain('changed nothing');
    // The first alert's buttons, clicked by an approver after its episode ended.
    await h.click(BOB, { ...old, blocks: old.versions[0]!.blocks }, 'outside_accept');
    expect(renderedText(await ephemeralFor(BOB, 'out of date'))).toContain('changed nothing');

    expect(await baseline('api')).toMatchObject({ weights: { kubernetes: 10, ec2: 90 } });
    expect(h.slack.messages(APPROVALS)).toHaveLength(0);
    expect(buttonLabels(h.slack.message(ALERTS, alert.ts)!)).toEqual(['Restore 10/90', 'Accept']);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
  });

  it('Accept by an approver adopts the live split: the alert is resolved and no alert follows', async () => {
    const alert = alerts()[1]!;
    await h.click(BOB, alert, 'outside_accept');
    expect(renderedText(await ephemeralFor(BOB, 'Accepted: 30/70'))).toContain('api');
    const accepted = await h.slack.waitFor(() => {
      const m = h.slack.message(ALERTS, alert.ts);
      return m && renderedText(m).includes('Accepted by <@U0BOB>') ? m : undefined;
    }, 10_000, 'the alert marked accepted');
    expect(buttonLabels(accepted)).toEqual([]);
    expect(await baseline('api')).toMatchObject({ weights: { kubernetes: 30, ec2: 70 }, source: 'accepted' });
    await ticks(3);
    expect(alerts()).toHaveLength(2);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
  });

  it('Restore opens a normal request through approval; once applied the alert is resolved', async () => {
    // 30/70 → 90/10 is a jump of 60, beyond maxStep 25: a restore is exempt, like a rollback.
    setApi(90, 10);
    const alert = await alertSaying('30/70 → 90/10', 3);
    await h.click(BOB, alert, 'outside_restore');
    expect(renderedText(await ephemeralFor(BOB, 'is waiting for approval'))).toContain('Kubernetes 90% · EC2 10% → Kubernetes 30% · EC2 70%');
    const asked = await h.waitForApproval(1, 'waits for approval');
    expect(renderedText(asked)).toContain('Restore button on the outside-change alert');
    // Four eyes: BOB asked for it, so another approver decides.
    await h.click(CAROL, asked, 'approve');
    await h.waitForApproval(1, 'Applied and verified');
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    const resolved = await h.slack.waitFor(() => {
      const m = h.slack.message(ALERTS, alert.ts);
      return m && renderedText(m).includes('Back at 30/70') ? m : undefined;
    }, 10_000, 'the alert resolved once the restore applied');
    expect(renderedText(resolved)).toContain('the split strangler last applied');
    expect(await baseline('api')).toMatchObject({ weights: { kubernetes: 30, ec2: 70 }, source: 'applied' });
    await ticks(2);
    expect(alerts()).toHaveLength(3);
  });

  it('Restore while the service already has an open request says so and opens nothing', async () => {
    setApi(45, 55);
    const alert = await alertSaying('30/70 → 45/55', 4);
    expect(await h.ask(ALICE, 'api 50 try more')).toContain('Request #2 is waiting for approval');
    await h.click(CAROL, alert, 'outside_restore');
    expect(renderedText(await ephemeralFor(CAROL, 'already has an open request: #2'))).toBeTruthy();
    expect(h.slack.messages(APPROVALS).filter((m) => renderedText(m).includes('Request #3'))).toHaveLength(0);
    expect(h.weights('api')).toEqual({ kubernetes: 45, ec2: 55 });
  });

  it('never takes the bot’s own change in flight for an outside one; once applied, the episode ends', async () => {
    const alert = alerts()[3]!;
    const asked = await h.waitForApproval(2, 'waits for approval');
    // Held between Route 53 taking the batch and confirming it: the records already say 50/50.
    const held = h.r53.holdNext('GetChange');
    await h.click(BOB, asked, 'approve');
    await held.reached;
    expect(h.weights('api')).toEqual({ kubernetes: 50, ec2: 50 });
    await ticks(3);
    expect(renderedText(h.slack.message(ALERTS, alert.ts)!)).toContain('30/70 → 45/55');
    expect(renderedText(h.slack.message(ALERTS, alert.ts)!)).not.toContain('50/50');
    held.release();
    await h.waitForApproval(2, 'Applied and verified');
    const resolved = await h.slack.waitFor(() => {
      const m = h.slack.message(ALERTS, alert.ts);
      return m && renderedText(m).includes('Back at 50/50') ? m : undefined;
    }, 10_000, 'the alert resolved by the applied request');
    expect(renderedText(resolved)).toContain('the split strangler last applied');
    await ticks(2);
    expect(alerts()).toHaveLength(4);
  });
});
