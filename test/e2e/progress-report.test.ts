import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { CHANGE_QUEUE } from '../../src/queue/change-queue.js';
import { ALICE, baseConfig, BOB, BotHarness, OPS } from '../support/bot-harness.js';
import { startBotProcess, writeConfig } from '../support/bot-process.js';
import { pngSize } from '../support/png.js';
import type { SlackStandIn, StandInUpload } from '../support/slack-stand-in.js';

const REPORTS = 'C0REPORTS';

async function uploadTo(slack: SlackStandIn, channel: string, after = 0): Promise<StandInUpload> {
  return slack.waitFor(() => slack.uploads.slice(after).find((u) => u.completed && u.channel === channel), 20_000, `a report uploaded to ${channel}`);
}

function expectPng(u: StandInUpload): void {
  expect(u.bytes!.length).toBe(u.length);
  expect(pngSize(u.bytes!)).toEqual({ width: 1000, height: 560 });
}

describe('/strangle report: the progress chart, on demand', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await BotHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('posts a PNG chart in the channel it was asked in, with a line per service, and answers privately', async () => {
    // A change in the history first, so the chart has a step to draw.
    expect(await h.ask(ALICE, 'api 30')).toContain('Request #1');
    await h.click(BOB, await h.waitForApproval(1, 'waits for approval'), 'approve');
    await h.waitForApproval(1, 'Applied and verified');

    const reply = await h.ask(ALICE, 'report', {}, 20_000);
    expect(reply.split('\n')[0]).toBe(`Posted the progress report of 2 services in <#${OPS}>.`);
    const upload = await uploadTo(h.slack, OPS);
    expectPng(upload);
    expect(h.slack.callsTo('files.getUploadURLExternal')).toHaveLength(1);
    expect(h.slack.callsTo('files.completeUploadExternal')).toHaveLength(1);
    expect(upload.initialComment).toMatch(/^\*Migration progress, \d{4}-\d{2}-\d{2}\*: 0 of 2 services fully on Kubernetes\./);
    expect(upload.initialComment).toMatch(/• api: 10% → 30% on Kubernetes in 1 change over \d+ hours?, last \d+ hours? ago/);
    expect(upload.initialComment).toContain('• web: 0% on Kubernetes, unchanged in the recorded history');
  });

  it('a channel the bot is not in: a private answer saying what to do, nothing posted', async () => {
    h.slack.failNext('files.completeUploadExternal', { error: 'not_in_channel' });
    const reply = await h.ask(ALICE, 'report', { channel: 'C0NOTJOINED' }, 20_000);
    expect(reply).toContain("Slack refused the report's upload (not_in_channel). Invite the bot to the channel (`/invite @strangler`) and try again. Nothing was changed.");
    expect(h.slack.messages('C0NOTJOINED')).toHaveLength(0);
  });
});

describe('/strangle report over Socket Mode: the same Web API upload', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await BotHarness.start({ socketMode: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('posts the chart', async () => {
    expect(await h.ask(ALICE, 'report', {}, 20_000)).toContain('Posted the progress report');
    expectPng(await uploadTo(h.slack, OPS));
  });
});

describe('the scheduled report', () => {
  let h: BotHarness | undefined;
  let queue: Queue | undefined;
  let conn: Redis | undefined;
  afterEach(async () => {
    await queue?.close();
    conn?.disconnect();
    await h?.close();
    [h, queue, conn] = [undefined, undefined, undefined];
  });

  /** The report's job scheduler as BullMQ keeps it in Redis. */
  async function scheduler(): Promise<{ pattern?: string | null; tz?: string | null } | undefined> {
    conn ??= new Redis(h!.redis.url, { maxRetriesPerRequest: null });
    queue ??= new Queue(CHANGE_QUEUE, { connection: conn });
    return (await queue.getJobScheduler('report')) ?? undefined;
  }

  it('fires on its cron as a BullMQ job scheduler and posts in the report channel', async () => {
    // Every 2 s (a seconds field), so the first run comes within the test.
    h = await BotHarness.start({ config: baseConfig({ report: { channel: REPORTS, cron: '*/2 * * * * *' } }) });
    const upload = await uploadTo(h.slack, REPORTS);
    expectPng(upload);
    expect(upload.initialComment).toMatch(/^\*Migration progress, \d{4}-\d{2}-\d{2}\* \(scheduled\): 0 of 2 services/);
    expect((await scheduler())?.pattern).toBe('*/2 * * * * *');
  });

  it('removing `report` from the config removes the scheduler: no more reports', async () => {
    h = await BotHarness.start({ config: baseConfig({ report: { channel: REPORTS, cron: '0 9 * * MON', timezone: 'Europe/Paris' } }) });
    expect(await scheduler()).toMatchObject({ pattern: '0 9 * * MON', tz: 'Europe/Paris' });
    await h.bot.stop();
    h.config = parseConfig(baseConfig(), 'test config');
    await h.startBot();
    expect(await scheduler()).toBeUndefined();
  });
});

describe('a bad report cron is refused at start-up', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await BotHarness.start({ noBot: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('names the field, and the bot does not start', async () => {
    const path = writeConfig(baseConfig({ report: { channel: REPORTS, cron: '0 9 * * FUNDAY' } }));
    const bot = await startBotProcess(h.processEnv(path), { waitReady: false });
    expect(await bot.exited).toBe(1);
    const out = bot.output.join('\n');
    expect(out).toContain('report.cron: must be a cron expression such as "0 9 * * MON"');
    expect(out).not.toMatch(/\n\s+at /);
  });
});
