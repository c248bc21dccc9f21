import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { renderShareChart } from '../../src/adapters/share-chart.js';
import { parseConfig } from '../../src/config/load-config.js';
import { Unreachable } from '../../src/core/errors.js';
import type { WeightedPair } from '../../src/core/ports.js';
import { silentLogger } from '../../src/log.js';
import { ProgressReport } from '../../src/slack/progress-report.js';
import { RequestStore } from '../../src/store/request-store.js';
import { baseConfig } from '../support/bot-harness.js';
import { pngSize } from '../support/png.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in.js';
import { snapshotOf } from '../unit/request-fixture.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 9, 0);

/** Route 53 out of reach: the report is drawn from the history alone. */
const noRoute53: WeightedPair = {
  read: async () => {
    throw new Unreachable('Route 53 is unreachable in this test');
  },
  readMany: async (ts) => ts.map(() => new Unreachable('Route 53 is unreachable in this test')),
  swap: async () => {
    throw new Error('not used');
  },
  waitInSync: async () => undefined,
};

describe('the progress report: a PNG through Slack’s external upload flow', () => {
  let redis: RedisServer;
  let conn: Redis;
  let slack: SlackStandIn;
  let report: ProgressReport;

  beforeAll(async () => {
    [redis, slack] = await Promise.all([startRedisServer(), startSlackStandIn()]);
    conn = new Redis(redis.url);
    const store = new RequestStore(conn);
    // api: 10 → 30 (applied), 30 → 60 (applied), a rejected one that must not count.
    const steps = [
      { from: 10, to: 30, at: NOW - 14 * DAY, status: 'applied' as const },
      { from: 30, to: 60, at: NOW - 7 * DAY, status: 'applied' as const },
      { from: 60, to: 90, at: NOW - 2 * DAY, status: 'rejected' as const },
    ];
    for (const s of steps) {
      const from = { kubernetes: s.from, ec2: 100 - s.from };
      const r = await store.create({
        change: { kind: 'weight', service: 'api', from, to: { kubernetes: s.to, ec2: 100 - s.to }, snapshot: snapshotOf(from) },
        reason: '',
        requestedBy: 'U0ALICE',
        requestedAt: s.at,
        expiresAt: s.at + 1800_000,
        origin: { channel: 'C0OPS' },
      });
      if (s.status === 'rejected') await store.apply(r.id, { type: 'reject', by: 'U0BOB', at: s.at + 1000 });
      else {
        await store.apply(r.id, { type: 'approve', by: 'U0BOB', at: s.at + 1000 });
        await store.apply(r.id, { type: 'start', at: s.at + 2000 });
        await store.apply(r.id, { type: 'applied', at: s.at + 60_000 });
      }
    }
    const client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    report = new ProgressReport({
      config: parseConfig(baseConfig(), 'test'),
      store,
      pairs: noRoute53,
      client,
      clock: { now: () => NOW },
      log: silentLogger,
      chart: renderShareChart,
    });
  });
  afterAll(async () => {
    conn?.disconnect();
    await Promise.allSettled([redis?.stop(), slack?.close()]);
  });

  it('getUploadURLExternal, the bytes, completeUploadExternal: a valid PNG of the stated size, shared with a line per service', async () => {
    await report.post('C0REPORTS');
    const asked = slack.callsTo('files.getUploadURLExternal');
    const completed = slack.callsTo('files.completeUploadExternal');
    expect(asked).toHaveLength(1);
    expect(completed).toHaveLength(1);
    expect(asked[0]!.seq).toBeLessThan(completed[0]!.seq);
    expect(asked[0]!.args.filename).toBe('strangler-progress-2026-12-07.png');

    const [upload] = slack.uploads;
    expect(upload!.completed).toBe(true);
    expect(upload!.bytes!.length).toBe(Number(asked[0]!.args.length));
    expect(upload!.bytes!.length).toBe(upload!.length);
    expect(pngSize(upload!.bytes!)).toEqual({ width: 1000, height: 560 });
    expect(upload!.channel).toBe('C0REPORTS');
    expect(upload!.title).toBe('Migration progress, 2026-12-07');

    const comment = upload!.initialComment!;
    expect(comment).toContain('*Migration progress, 2026-12-07*: 0 of 2 services fully on Kubernetes.');
    // The rejected request is not a change; the line ends where the history does (Route 53 is out).
    expect(comment).toContain('• api: 10% → 60% on Kubernetes in 2 changes over 14 days, last 7 days ago');
    expect(comment).toContain('• web: no change recorded and its live share is unknown');
    const shared = slack.messages('C0REPORTS');
    expect(shared).toHaveLength(1);
    expect(shared[0]!.text).toBe(comment);
  });

  it('Slack refusing the upload is a readable error, not a stack trace', async () => {
    slack.failNext('files.completeUploadExternal', { error: 'not_in_channel' });
    const answer = await report.onDemand('C0ELSEWHERE');
    expect(answer.text).toContain("Slack refused the report's upload (not_in_channel). Invite the bot to the channel");
    expect(answer.text).toContain('Nothing was changed.');
  });
});
