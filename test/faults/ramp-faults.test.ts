/**
 * A ramp against the faults that matter to it: the worker process killed (SIGKILL, a real OS
 * process) mid-step and mid-bake, and the records changed out of band between two steps.
 * Each step must be applied exactly once, a bake must resume with the time it had left, and a
 * change nobody asked the ramp for must stop it, saying so.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { aliasRecord, ALICE, BOB, BOT_TOKEN, BotHarness, baseConfig, SIGNING_SECRET, TEST_TUNING_ENV, ZONE } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';
import { type ChildBot, startChildBot } from './support/child-bot.js';

const WAIT = 60_000;

function rampConfig(ramp: Record<string, unknown>): Record<string, unknown> {
  const base = baseConfig() as { services: Record<string, Record<string, unknown>> };
  return { ...base, services: { ...base.services, api: { ...base.services['api'], ramp } } };
}

async function readRequest(h: BotHarness, id: number): Promise<ChangeRequest> {
  const redis = new Redis(h.redis.url);
  try {
    const raw = await redis.get(`strangler:request:${id}`);
    if (raw === null) throw new Error(`no request #${id}`);
    return JSON.parse(raw) as ChangeRequest;
  } finally {
    redis.disconnect();
  }
}

/** Batches that set api's Kubernetes weight to `percent`. */
function batchesTo(h: BotHarness, percent: number): number {
  return h.r53.appliedBatches.filter((b) => b.changes.some((c) => c.action === 'CREATE' && c.record.SetIdentifier === 'primary' && c.record.Weight === percent)).length;
}

describe('ramp faults', { timeout: 120_000 }, () => {
  let h: BotHarness | undefined;
  const children: ChildBot[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill()));
    await h?.close();
    h = undefined;
  });

  it('a worker killed mid-step and again mid-bake: no step repeated or skipped, and the bake resumes with the time it had left', async () => {
    const BAKE_MS = 12_000;
    const config = rampConfig({ steps: [20, 35], bake: '12s', allowWithoutGates: true });
    h = await BotHarness.start({ config, noBot: true });
    const spawnBot = async () => {
      const child = await startChildBot({
        config,
        redisUrl: h!.redis.url,
        slackApiUrl: h!.slack.apiUrl,
        signingSecret: SIGNING_SECRET,
        botToken: BOT_TOKEN,
        env: { ...TEST_TUNING_ENV, AWS_ENDPOINT_URL_ROUTE_53: h!.r53.url, LOG_LEVEL: 'silent', STRANGLER_RAMP_SAMPLE_MS: '200' },
      });
      children.push(child);
      h!.endpoint = child.baseUrl;
      return child;
    };
    const first = await spawnBot();
    await h.ask(ALICE, 'api ramp');
    const asked = await h.waitForApproval(1, 'waits for approval', WAIT);
    expect(renderedText(asked)).toContain('Nothing is being watched');

    // Killed while step 1's batch is in Route 53 but not yet in sync.
    h.r53.pendingPolls = 1_000_000;
    await h.click(BOB, asked, 'approve');
    await h.slack.waitFor(() => h!.r53.appliedBatches.length === 1 || undefined, WAIT, 'step 1 in Route 53');
    await first.kill();
    h.r53.pendingPolls = 0;

    const second = await spawnBot();
    await h.waitForApproval(1, 'Baking step 1', WAIT);
    const baking = await readRequest(h, 1);
    const bakeStartedAt = baking.ramp!.bakeStartedAt!;
    expect(batchesTo(h, 20)).toBe(1);

    // Killed halfway through the bake.
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(bakeStartedAt + BAKE_MS / 2), { timeout: WAIT, interval: 50 });
    await second.kill();
    const killedAt = Date.now();
    expect((await readRequest(h, 1)).ramp!.step).toBe(0);
    await spawnBot();

    const done = await h.waitForApproval(1, 'Ramp complete', WAIT);
    const end = await readRequest(h, 1);
    // The same bake, resumed: its start was kept, and step 2 came when that bake was over.
    const stepTwo = await readRequest(h, end.ramp!.applied[1]!.requestId);
    expect(end.ramp!.applied[0]!.at).toBe(baking.ramp!.applied[0]!.at);
    expect(stepTwo.requestedAt).toBeGreaterThanOrEqual(bakeStartedAt + BAKE_MS);
    // A bake started over by the new worker could not have ended before killedAt + BAKE_MS.
    expect(stepTwo.requestedAt).toBeLessThan(killedAt + BAKE_MS);
    expect(batchesTo(h, 20)).toBe(1);
    expect(batchesTo(h, 35)).toBe(1);
    expect(h.r53.appliedBatches).toHaveLength(2);
    expect(h.weights('api')).toEqual({ kubernetes: 35, ec2: 65 });
    expect(renderedText(done)).toContain('✓ 20  ✓ 35');
  }, 180_000);

  it('a graceful stop mid-bake does not wait for the bake; the next worker resumes it with the time left', async () => {
    h = await BotHarness.start({ config: rampConfig({ steps: [20, 35], bake: '8s', allowWithoutGates: true }), env: { STRANGLER_RAMP_SAMPLE_MS: '200' } });
    await h.ask(ALICE, 'api ramp');
    await h.click(BOB, await h.waitForApproval(1, 'waits for approval'), 'approve');
    await h.waitForApproval(1, 'Baking step 1', WAIT);
    const before = await readRequest(h, 1);
    const stopStarted = Date.now();
    await h.bot.stop();
    // A stop that waited for the bake would take most of its 8 s.
    expect(Date.now() - stopStarted).toBeLessThan(4000);
    expect((await readRequest(h, 1)).ramp).toMatchObject({ phase: 'baking', step: 0 });
    // Nothing but the new worker's start-up sweep picks the ramp up again.
    await h.startBot();
    await h.waitForApproval(1, 'Ramp complete', WAIT);
    const after = await readRequest(h, 1);
    const stepTwo = await readRequest(h, after.ramp!.applied[1]!.requestId);
    expect(stepTwo.requestedAt).toBeGreaterThanOrEqual(before.ramp!.bakeStartedAt! + 8000);
    expect(h.r53.appliedBatches).toHaveLength(2);
    expect(h.weights('api')).toEqual({ kubernetes: 35, ec2: 65 });
  }, 120_000);

  it('records changed out of band during a ramp: the next step is refused by the compare-and-swap and the ramp pauses, saying so', async () => {
    h = await BotHarness.start({ config: rampConfig({ steps: [20, 35], bake: '2s', allowWithoutGates: true }), env: { STRANGLER_RAMP_SAMPLE_MS: '200' } });
    await h.ask(ALICE, 'api ramp');
    await h.click(BOB, await h.waitForApproval(1, 'waits for approval'), 'approve');
    await h.waitForApproval(1, 'Baking step 1', WAIT);
    // Someone sets 50/50 in the console while step 1 bakes.
    h.r53.putRecord(ZONE, aliasRecord('api.example.com', 'primary', 50, 'k8s-lb.elb.amazonaws.com'));
    h.r53.putRecord(ZONE, aliasRecord('api.example.com', 'secondary', 50, 'ec2-lb.elb.amazonaws.com'));
    const batchesBefore = h.r53.appliedBatches.length;

    const paused = await h.waitForApproval(1, 'Paused at step 2', WAIT);
    expect(renderedText(paused)).toContain('changed outside the ramp');
    expect(h.weights('api')).toEqual({ kubernetes: 50, ec2: 50 });
    expect(h.r53.appliedBatches).toHaveLength(batchesBefore);
    const said = await h.slack.waitFor(() => h!.slack.messages(paused.channel).find((m) => m.thread_ts === paused.ts && renderedText(m).includes('changed outside the ramp')), WAIT, 'the pause in the thread');
    expect(renderedText(said)).toContain('Resume');

    // A person looked; Resume applies step 2 from the records as they are now.
    await h.click(BOB, paused, 'ramp_resume');
    await h.waitForApproval(1, 'Ramp complete', WAIT);
    expect(h.weights('api')).toEqual({ kubernetes: 35, ec2: 65 });
  });
});
