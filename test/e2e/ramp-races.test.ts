/**
 * A ramp against what runs beside it: more ramps baking than the worker has slots, a Slack that
 * does not answer, a click that lands while a step is about to be sent, and records changed out
 * of band during the last bake or far from the next step. Each race is held open with a stand-in
 * (its answer kept until the test lets it go), never hoped for.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { CHANGE_QUEUE } from '../../src/queue/change-queue.js';
import { ALICE, APPROVALS, aliasRecord, BOB, BotHarness, baseConfig, ZONE } from '../support/bot-harness.js';
import type { AnswerHold } from '../support/slack-stand-in.js';
import { renderedText } from '../support/slack-stand-in.js';

const WAIT = 60_000;
/** Well inside any bake below: "at once" rather than "when the bake is over". */
const PROMPTLY = 20_000;

let h: BotHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Services = Record<string, Record<string, unknown>>;

function withRamp(ramp: Record<string, unknown>, extra: Services = {}): Record<string, unknown> {
  const base = baseConfig() as { services: Services };
  return { ...base, services: { ...base.services, api: { ...base.services['api'], ramp }, ...extra } };
}

async function start(config: Record<string, unknown>): Promise<BotHarness> {
  h = await BotHarness.start({ config, env: { STRANGLER_RAMP_SAMPLE_MS: '200' } });
  return h;
}

async function redisGet(b: BotHarness, key: string, field?: string): Promise<string | null> {
  const redis = new Redis(b.redis.url);
  try {
    return field === undefined ? await redis.get(key) : await redis.hget(key, field);
  } finally {
    redis.disconnect();
  }
}

async function readRequest(b: BotHarness, id: number): Promise<ChangeRequest> {
  const raw = await redisGet(b, `strangler:request:${id}`);
  if (raw === null) throw new Error(`no request #${id}`);
  return JSON.parse(raw) as ChangeRequest;
}

/** The state of the ramp's job in the queue ('missing' once it is gone). */
async function jobState(b: BotHarness, id: number): Promise<string> {
  const connection = new Redis(b.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(CHANGE_QUEUE, { connection });
  try {
    const job = await queue.getJob(`apply-${id}`);
    return job ? await job.getState() : 'missing';
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

function setApi(b: BotHarness, kubernetes: number): void {
  b.r53.putRecord(ZONE, aliasRecord('api.example.com', 'primary', kubernetes, 'k8s-lb.elb.amazonaws.com'));
  b.r53.putRecord(ZONE, aliasRecord('api.example.com', 'secondary', 100 - kubernetes, 'ec2-lb.elb.amazonaws.com'));
}

/** Keeps Slack's answers to every call of these methods until released (the calls themselves are carried out). */
function holdSlack(b: BotHarness, methods: string[], count = 200): AnswerHold[] {
  return methods.flatMap((m) => Array.from({ length: count }, () => b.slack.holdAnswerOfNext(m)));
}

/** Asks for a ramp and approves it; its request number (a ramp's steps take numbers too). */
async function startRamp(b: BotHarness, service = 'api'): Promise<number> {
  const id = requestId(await b.ask(ALICE, `${service} ramp`));
  await b.click(BOB, await b.waitForApproval(id, 'waits for approval', WAIT), 'approve');
  return id;
}

function requestId(reply: string): number {
  const m = /Request #(\d+)/.exec(reply);
  if (!m) throw new Error(`no request number in: ${reply}`);
  return Number(m[1]);
}

describe('ramp races', { timeout: 180_000 }, () => {
  it('more ramps baking than the worker has slots: an approved change is still applied at once, and the fifth ramp still aborts at once', async () => {
    const ramp = { steps: [20, 35], bake: '10m', allowWithoutGates: true };
    const names = ['s1', 's2', 's3', 's4', 's5'];
    const extra: Services = Object.fromEntries(
      names.map((n) => [n, { route53: { hostedZoneId: ZONE, recordName: `${n}.example.com`, recordType: 'A', kubernetesSetIdentifier: 'primary', ec2SetIdentifier: 'secondary' }, maxStep: 25, ramp }]),
    );
    const b = await start(withRamp(ramp, extra));
    for (const n of names) {
      b.r53.putRecord(ZONE, aliasRecord(`${n}.example.com`, 'primary', 10, 'k8s-lb.elb.amazonaws.com'));
      b.r53.putRecord(ZONE, aliasRecord(`${n}.example.com`, 'secondary', 90, 'ec2-lb.elb.amazonaws.com'));
    }
    const ramps: number[] = [];
    for (const n of names) ramps.push(await startRamp(b, n));
    for (const id of ramps) await b.waitForApproval(id, 'Baking step 1', WAIT);

    // The worker has four slots; five ramps bake for ten minutes.
    const startedAt = Date.now();
    const web = requestId(await b.ask(ALICE, 'web 30'));
    await b.click(BOB, await b.waitForApproval(web, 'waits for approval', WAIT), 'approve');
    await b.waitForApproval(web, 'Applied and verified', PROMPTLY);
    expect(b.weights('web')).toEqual({ kubernetes: 30, ec2: 70 });
    expect(Date.now() - startedAt).toBeLessThan(PROMPTLY);

    await b.click(ALICE, b.approvalMessage(ramps[4]!)!, 'ramp_abort');
    await b.waitForApproval(ramps[4]!, 'Aborted by', PROMPTLY);
    expect(b.r53.getRecord(ZONE, 's5.example.com', 'A', 'primary')?.Weight).toBe(10);
    // The others bake on, untouched.
    for (const id of ramps.slice(0, 4)) expect((await readRequest(b, id)).ramp).toMatchObject({ phase: 'baking', step: 0 });
  });

  it('Abort of a paused ramp returns to the split before the ramp while Slack does not answer the bot', async () => {
    const b = await start(withRamp({ steps: [20, 35], bake: '10m', allowWithoutGates: true }));
    const id = await startRamp(b);
    await b.click(BOB, await b.waitForApproval(id, 'Baking step 1', WAIT), 'ramp_pause');
    const paused = await b.waitForApproval(id, 'Paused at step 1', WAIT);
    expect(b.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });
    // Nothing of the ramp runs in the worker now: only the click can set the rollback going.
    await vi.waitFor(async () => expect(await jobState(b, id)).not.toBe('active'), { timeout: WAIT, interval: 50 });
    const holds = holdSlack(b, ['chat.update', 'chat.postMessage']);
    try {
      await b.click(ALICE, paused, 'ramp_abort');
      await vi.waitFor(() => expect(b.weights('api')).toEqual({ kubernetes: 10, ec2: 90 }), { timeout: PROMPTLY, interval: 50 });
      await vi.waitFor(async () => expect((await readRequest(b, id)).status).toBe('failed'), { timeout: PROMPTLY, interval: 50 });
    } finally {
      for (const hold of holds) hold.release();
    }
    // Slack catches up afterwards, in order: the message, then the thread.
    const aborted = await b.waitForApproval(id, 'Aborted by <@U0ALICE>', WAIT);
    await b.slack.waitFor(() => b.slack.messages(APPROVALS).find((m) => m.thread_ts === aborted.ts && renderedText(m).includes('back at')), WAIT, 'the end in the thread');
  });

  it('Pause while a step waits to be sent: the step is not applied, and Resume applies it afterwards', async () => {
    const b = await start(withRamp({ steps: [20, 35], bake: '2s', allowWithoutGates: true }));
    const id = await startRamp(b);
    await b.waitForApproval(id, 'Baking step 1', WAIT);
    // Step 2's compare-and-swap reads the records inside the zone lock first: held there.
    const read = b.r53.holdNext('ListResourceRecordSets');
    await read.reached;
    await b.click(BOB, b.approvalMessage(id)!, 'ramp_pause');
    await vi.waitFor(async () => expect((await readRequest(b, id)).ramp?.phase).toBe('paused'), { timeout: WAIT, interval: 50 });
    read.release();
    const paused = await b.waitForApproval(id, 'Paused at step 2', WAIT);
    const withdrawn = await vi.waitFor(
      async () => {
        const run = (await readRequest(b, id)).ramp!;
        expect(run.childId).toBeUndefined();
        return run;
      },
      { timeout: WAIT, interval: 50 },
    );
    expect(withdrawn.applied).toHaveLength(1);
    expect(b.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });
    expect(b.r53.appliedBatches).toHaveLength(1);

    await b.click(BOB, paused, 'ramp_resume');
    await b.waitForApproval(id, 'Ramp complete', WAIT);
    expect(b.weights('api')).toEqual({ kubernetes: 35, ec2: 65 });
    expect(b.r53.appliedBatches).toHaveLength(2);
  });

  it('Abort after the split was put back by hand: the out-of-band check expects the split before the ramp again', async () => {
    const b = await start(withRamp({ steps: [20, 35], bake: '10m', allowWithoutGates: true }));
    const id = await startRamp(b);
    const baking = await b.waitForApproval(id, 'Baking step 1', WAIT);
    const baseline = async () => JSON.parse((await redisGet(b, 'strangler:outside:baseline', 'api')) ?? 'null') as { weights: unknown } | null;
    expect((await baseline())?.weights).toEqual({ kubernetes: 20, ec2: 80 });
    setApi(b, 10);
    await b.click(ALICE, baking, 'ramp_abort');
    await b.waitForApproval(id, 'Aborted by <@U0ALICE>', WAIT);
    expect(b.r53.appliedBatches).toHaveLength(1);
    expect((await baseline())?.weights).toEqual({ kubernetes: 10, ec2: 90 });
  });

  it('records changed out of band during the last bake: the ramp is not marked complete but pauses, saying so', async () => {
    const b = await start(withRamp({ steps: [20], bake: '3s', allowWithoutGates: true }));
    const id = await startRamp(b);
    await b.waitForApproval(id, 'Baking step 1', WAIT);
    setApi(b, 50);
    const paused = await b.waitForApproval(id, 'Paused at step 1', WAIT);
    expect(renderedText(paused)).toContain('during the last bake');
    expect((await readRequest(b, id)).status).toBe('applying');
    expect(b.weights('api')).toEqual({ kubernetes: 50, ec2: 50 });
  });

  it('Resume after an out-of-band change that puts the next step beyond maxStep: nothing is applied, and it says why', async () => {
    const b = await start(withRamp({ steps: [20, 35], bake: '2s', allowWithoutGates: true }));
    const id = await startRamp(b);
    await b.waitForApproval(id, 'Baking step 1', WAIT);
    setApi(b, 0);
    const paused = await b.waitForApproval(id, 'Paused at step 2', WAIT);
    expect(renderedText(paused)).toContain('changed outside the ramp');
    await b.click(BOB, paused, 'ramp_resume');
    const again = await b.waitForApproval(id, 'maxStep of 25', WAIT);
    expect(renderedText(again)).toContain('Paused at step 2');
    expect(b.weights('api')).toEqual({ kubernetes: 0, ec2: 100 });
    expect(b.r53.appliedBatches).toHaveLength(1);
  });

  it('a return to the old split refused past all attempts: the ramp stays open and the sweep tries again, rather than ending failed mid-ramp', async () => {
    h = await BotHarness.start({
      config: withRamp({ steps: [20, 35], bake: '10m', allowWithoutGates: true }),
      env: { STRANGLER_RAMP_SAMPLE_MS: '200', STRANGLER_APPLY_ATTEMPTS: '2', STRANGLER_SWEEP_EVERY_MS: '2000' },
    });
    const b = h;
    const id = await startRamp(b);
    const baking = await b.waitForApproval(id, 'Baking step 1', WAIT);
    // More refusals than one job's attempts: the job gives up at least once.
    b.r53.failNext('ChangeResourceRecordSets', 'AccessDenied', 3);
    await b.click(ALICE, baking, 'ramp_abort');
    const aborted = await b.waitForApproval(id, 'Aborted by <@U0ALICE>', WAIT);
    const ended = await readRequest(b, id);
    expect(ended.failure?.code).toBe('RAMP_ABORTED');
    // The trouble was said in the thread, once for its one reason.
    const said = await b.slack.waitFor(
      () => {
        const t = b.slack.messages(APPROVALS).filter((m) => m.thread_ts === aborted.ts).map((m) => renderedText(m));
        return t.some((x) => x.includes('back at')) ? t : undefined;
      },
      WAIT,
      'the end in the thread',
    );
    expect(said.filter((t) => t.includes('Could not return api to Kubernetes 10% · EC2 90% yet'))).toHaveLength(1);
    expect(b.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
    expect(b.r53.calls.filter((c) => c.operation === 'ChangeResourceRecordSets').length).toBeGreaterThanOrEqual(5);
  });
});
