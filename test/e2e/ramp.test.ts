/**
 * `/strangle api ramp` end to end through the Bolt endpoint, judged by a real Prometheus that
 * scrapes, every second, an exporter whose Kubernetes error ratio the test sets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMetricReaders } from '../../src/adapters/metric-readers.js';
import type { Gate, MetricReader } from '../../src/core/gate.js';
import { ALICE, APPROVALS, BOB, BotHarness, baseConfig, buttonLabels, MALLORY } from '../support/bot-harness.js';
import { type CloudWatchStandIn, startCloudWatchStandIn } from '../support/cloudwatch-stand-in.js';
import { type ErrorExporter, startErrorExporter } from '../support/error-exporter.js';
import { type PrometheusServer, startPrometheus } from '../support/prometheus-server.js';
import { renderedText, type StoredMessage } from '../support/slack-stand-in.js';

const QUERY = 'max(exporter_error_ratio{service="api"})';
const WAIT = 60_000;

let exporter: ErrorExporter;
let prometheus: PrometheusServer;
let reader: MetricReader;
let h: BotHarness | undefined;

function gate(): Gate {
  return { name: 'k8s 5xx ratio', prometheus: { url: prometheus.url, query: QUERY }, max: 0.05, failureLimit: 2 };
}

function rampConfig(ramp: Record<string, unknown>): Record<string, unknown> {
  const base = baseConfig() as { services: Record<string, Record<string, unknown>> };
  return { ...base, services: { ...base.services, api: { ...base.services['api'], ramp } } };
}

const gateConfig = () => [{ name: 'k8s 5xx ratio', prometheus: { url: prometheus.url, query: QUERY }, max: 0.05 }];

async function start(ramp: Record<string, unknown>): Promise<BotHarness> {
  h = await BotHarness.start({ config: rampConfig(ramp), env: { STRANGLER_RAMP_SAMPLE_MS: '200' } });
  return h;
}

/** Waits until Prometheus itself reports the ratio the exporter now serves. */
async function prometheusSees(ratio: number): Promise<void> {
  exporter.setTraffic({ errorRatio: ratio });
  await vi.waitFor(
    async () => {
      const r = await reader.read(gate());
      if (r.kind !== 'value' || Math.abs(r.value - ratio) > 1e-9) throw new Error(`Prometheus does not see ${ratio} yet`);
    },
    { timeout: WAIT, interval: 200 },
  );
}

function thread(harness: BotHarness, parent: StoredMessage): string[] {
  return harness.slack.messages(APPROVALS).filter((m) => m.thread_ts === parent.ts).map((m) => renderedText(m));
}

beforeAll(async () => {
  exporter = await startErrorExporter({ traffic: { requestsPerSecond: 100, errorRatio: 0 } });
  prometheus = await startPrometheus({ targets: [exporter.target] });
  reader = createMetricReaders({ timeoutMs: 5000 });
  await prometheusSees(0);
}, 90_000);

afterEach(async () => {
  await h?.close();
  h = undefined;
});

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
});

/** A CloudWatch stand-in the bot's SDK reaches through AWS_ENDPOINT_URL_CLOUDWATCH, for one test. */
async function withCloudWatch(test: (cloudwatch: CloudWatchStandIn, metric: typeof ALB_P99) => Promise<void>): Promise<void> {
  const cloudwatch = await startCloudWatchStandIn();
  const saved = process.env['AWS_ENDPOINT_URL_CLOUDWATCH'];
  process.env['AWS_ENDPOINT_URL_CLOUDWATCH'] = cloudwatch.url;
  try {
    await test(cloudwatch, ALB_P99);
  } finally {
    if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_CLOUDWATCH'];
    else process.env['AWS_ENDPOINT_URL_CLOUDWATCH'] = saved;
    await cloudwatch.close();
  }
}

const ALB_P99 = { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', dimensions: { LoadBalancer: 'app/k8s-ingress/0123456789abcdef' }, stat: 'p99', periodSeconds: 60 };

describe('/strangle api ramp', { timeout: 120_000 }, () => {
  it('shows the whole plan for approval, then steps through to the end while the gates stay healthy', async () => {
    const b = await start({ steps: [20, 35, 50], bake: '1s', onFailure: 'rollback', gates: gateConfig() });
    const reply = await b.ask(ALICE, 'api ramp moving on');
    expect(reply).toContain('Request #1 is waiting for approval');
    const asked = await b.waitForApproval(1, 'waits for approval');
    const plan = renderedText(asked);
    expect(plan).toContain('Kubernetes 10% · EC2 90%');
    expect(plan).toContain('20%, 35%, 50%');
    expect(plan).toContain('1s per step');
    expect(plan).toContain('k8s 5xx ratio');
    expect(plan).toContain('≤ 0.05');
    expect(plan).toContain('back to Kubernetes 10% · EC2 90%');
    expect(buttonLabels(asked)).toEqual(['Approve', 'Reject']);
    // The ramp is the service's one open request.
    expect(await b.ask(BOB, 'api 20')).toContain('already has an open request: #1');

    await b.click(BOB, asked, 'approve');
    const running = await b.waitForApproval(1, 'Baking step 1', WAIT);
    expect(buttonLabels(running)).toEqual(['Pause', 'Abort']);
    expect(renderedText(running)).toContain('▶ 20  · 35  · 50');
    const status = await b.ask(ALICE, 'status api');
    expect(status).toContain('Open request #1');
    expect(status).toMatch(/Ramp #1: `(✓ 20  )?▶ (20|35)/);
    const done = await b.waitForApproval(1, 'Ramp complete', WAIT);
    expect(renderedText(done)).toContain('✓ 20  ✓ 35  ✓ 50');
    expect(renderedText(done)).toMatch(/k8s 5xx ratio: :white_check_mark: 0/);
    expect(b.weights('api')).toEqual({ kubernetes: 50, ec2: 50 });
    // One compare-and-swap per step, no more.
    expect(b.r53.appliedBatches).toHaveLength(3);
    await b.slack.waitFor(() => thread(b, done).find((t) => t.includes('Ramp complete')), WAIT, 'the end in the thread');

    const history = await b.ask(ALICE, 'history api');
    expect(history).toContain('#1');
    expect(history).toContain('step 1 of 3 of ramp #1');
    expect(history).toContain('step 3 of 3 of ramp #1');
    expect(history).toContain('(step of ramp #1)');
    expect(history).toMatch(/#1\* `api: ramp Kubernetes 10% → 20% → 35% → 50%` · steps applied: 20% \(#\d+\), 35% \(#\d+\), 50% \(#\d+\)/);
    // A completed ramp is the service's rollback point: back to the split before it.
    const rbReply = await b.ask(ALICE, 'api rollback');
    const rbId = Number(/Request #(\d+)/.exec(rbReply)?.[1]);
    const rb = await b.waitForApproval(rbId, 'waits for approval');
    expect(renderedText(rb)).toContain('Kubernetes 50% · EC2 50% → Kubernetes 10% · EC2 90%');
  });

  it('rolls back to the split before the ramp on a breach, and says in the thread which gate and its readings', async () => {
    const b = await start({ steps: [20, 35], bake: '30s', onFailure: 'rollback', gates: gateConfig() });
    await b.ask(ALICE, 'api ramp');
    const asked = await b.waitForApproval(1, 'waits for approval');
    await prometheusSees(0.3);
    try {
      await b.click(BOB, asked, 'approve');
      const ended = await b.waitForApproval(1, 'Rolled back to Kubernetes 10% · EC2 90%', WAIT);
      expect(b.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
      expect(buttonLabels(ended)).toEqual([]);
      const said = await b.slack.waitFor(() => thread(b, ended).find((t) => t.includes('Gate breached')), WAIT, 'breach in the thread');
      expect(said).toContain('k8s 5xx ratio');
      expect(said).toContain('0.3 (above max 0.05)');
      // Step 1, then straight back: two batches, never step 2.
      expect(b.r53.appliedBatches).toHaveLength(2);
    } finally {
      await prometheusSees(0);
    }
  });

  it('rolls back on a breach at once even while Slack does not answer the bot; the thread says it afterwards', async () => {
    const b = await start({ steps: [20, 35], bake: '30s', onFailure: 'rollback', gates: gateConfig() });
    await b.ask(ALICE, 'api ramp');
    const asked = await b.waitForApproval(1, 'waits for approval');
    await prometheusSees(0.3);
    // Every answer to the bot's message updates and thread posts is kept from now on.
    const holds = ['chat.update', 'chat.postMessage'].flatMap((m) => Array.from({ length: 200 }, () => b.slack.holdAnswerOfNext(m)));
    try {
      await b.click(BOB, asked, 'approve');
      await b.slack.waitFor(() => b.r53.appliedBatches.length >= 1 || undefined, WAIT, 'step 1 in Route 53');
      await vi.waitFor(() => expect(b.weights('api')).toEqual({ kubernetes: 10, ec2: 90 }), { timeout: WAIT, interval: 50 });
      expect(b.r53.appliedBatches).toHaveLength(2);
    } finally {
      for (const hold of holds) hold.release();
      await prometheusSees(0);
    }
    const ended = await b.waitForApproval(1, 'Rolled back to Kubernetes 10% · EC2 90%', WAIT);
    const said = await b.slack.waitFor(() => (thread(b, ended).some((t) => t.includes('back at')) ? thread(b, ended) : undefined), WAIT, 'the end in the thread');
    // The breach is told before the end, as it happened.
    expect(said.findIndex((t) => t.includes('Gate breached'))).toBeGreaterThanOrEqual(0);
    expect(said.findIndex((t) => t.includes('Gate breached'))).toBeLessThan(said.findIndex((t) => t.includes('back at')));
  });

  it('pauses on a breach with onFailure pause, and carries on after Resume once healthy', async () => {
    const b = await start({ steps: [20, 35], bake: '1s', onFailure: 'pause', gates: gateConfig() });
    await b.ask(ALICE, 'api ramp');
    const asked = await b.waitForApproval(1, 'waits for approval');
    expect(renderedText(asked)).toContain('stops where it is');
    await prometheusSees(0.3);
    let paused: StoredMessage;
    try {
      await b.click(BOB, asked, 'approve');
      paused = await b.waitForApproval(1, 'Paused at step 1', WAIT);
      expect(buttonLabels(paused)).toEqual(['Resume', 'Abort']);
      expect(b.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });
      await b.slack.waitFor(() => thread(b, paused).find((t) => t.includes('Gate breached')), WAIT, 'breach in the thread');
    } finally {
      await prometheusSees(0);
    }
    // Resume needs an approver: the requester's click changes nothing.
    await b.click(ALICE, paused, 'ramp_resume');
    await b.slack.waitFor(() => b.slack.ephemerals(ALICE).find((e) => e.text.includes('not an approver')), WAIT, 'refusal to Alice');
    expect(renderedText(b.approvalMessage(1)!)).toContain('Paused at step 1');
    await b.click(BOB, paused, 'ramp_resume');
    await b.waitForApproval(1, 'Ramp complete', WAIT);
    expect(b.weights('api')).toEqual({ kubernetes: 35, ec2: 65 });
    // Step 1 was applied once and baked again, not applied again.
    expect(b.r53.appliedBatches).toHaveLength(2);
  });

  it('Pause needs an approver; Abort by the requester returns to the split before the ramp at once', async () => {
    const b = await start({ steps: [20, 35], bake: '10m', onFailure: 'rollback', gates: gateConfig() });
    await b.ask(ALICE, 'api ramp');
    await b.click(BOB, await b.waitForApproval(1, 'waits for approval'), 'approve');
    const baking = await b.waitForApproval(1, 'Baking step 1', WAIT);
    await b.click(MALLORY, baking, 'ramp_pause');
    await b.slack.waitFor(() => b.slack.ephemerals(MALLORY).find((e) => e.text.includes('not an approver')), WAIT, 'refusal to Mallory');
    await b.click(MALLORY, baking, 'ramp_abort');
    await b.slack.waitFor(() => b.slack.ephemerals(MALLORY).filter((e) => e.text.includes('not an approver'))[1], WAIT, 'second refusal to Mallory');
    expect(b.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });

    await b.click(BOB, baking, 'ramp_pause');
    const paused = await b.waitForApproval(1, 'Paused at step 1', WAIT);
    expect(renderedText(paused)).toContain('paused by <@U0BOB>');
    await b.click(BOB, paused, 'ramp_resume');
    const again = await b.waitForApproval(1, 'Baking step 1', WAIT);

    await b.click(ALICE, again, 'ramp_abort');
    const aborted = await b.waitForApproval(1, 'Aborted by <@U0ALICE>', WAIT);
    expect(renderedText(aborted)).toContain('back to Kubernetes 10% · EC2 90%');
    expect(b.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
    expect(b.r53.appliedBatches).toHaveLength(2);
    // The service is free again.
    expect(await b.ask(ALICE, 'api 30')).toContain('is waiting for approval');
  });

  it('answers a bad plan clearly and changes nothing', async () => {
    const b = await start({ bake: '1s', gates: gateConfig() });
    expect(await b.ask(ALICE, 'api ramp 20 60 every 1s')).toContain('jumps from 20% to 60%');
    expect(await b.ask(ALICE, 'api ramp 30 20 every 1s')).toContain('does not move on');
    expect(await b.ask(ALICE, 'api ramp 20 30 every 10x')).toContain('is not a bake time');
    expect(await b.ask(ALICE, 'api ramp')).toContain('has no ramp configured and no steps were given');
    expect(await b.ask(ALICE, 'web ramp 20 every 1s')).toContain('has no gates');
    expect(b.slack.messages(APPROVALS)).toHaveLength(0);
    expect(b.r53.appliedBatches).toHaveLength(0);

    // A good inline plan reuses the configured gates; Reject ends it with nothing changed.
    expect(await b.ask(ALICE, 'api ramp 20 35 every 2m')).toContain('waiting for approval');
    const asked = await b.waitForApproval(1, 'waits for approval');
    expect(renderedText(asked)).toContain('20%, 35%');
    expect(renderedText(asked)).toContain('2m per step');
    expect(renderedText(asked)).toContain('k8s 5xx ratio');
    await b.click(BOB, asked, 'reject');
    const rejected = await b.waitForApproval(1, 'Rejected by <@U0BOB>');
    expect(buttonLabels(rejected)).toEqual([]);
    expect(b.r53.appliedBatches).toHaveLength(0);
  });

  it('judges CloudWatch gates too: a p99 above its max rolls the ramp back, naming that gate', async () => {
    await withCloudWatch(async (cloudwatch, metric) => {
      // A datapoint from before the ramp is not evidence about its step (even a bad one), so the
      // slow one that counts lands mid-bake.
      cloudwatch.putDatapoints(metric, [{ at: new Date(Date.now() - 30_000), value: 0.9 }]);
      // One datapoint is one observation however often it is read (GateReading.observedAt): a
      // period-long metric breaches on one bad period only with failureLimit 1.
      const latency = { name: 'k8s ALB p99 latency', cloudwatch: metric, max: 0.5, failureLimit: 1 };
      const b = await start({ steps: [20, 35], bake: '30s', gates: [...gateConfig(), latency] });
      await b.ask(ALICE, 'api ramp');
      const asked = await b.waitForApproval(1, 'waits for approval');
      expect(renderedText(asked)).toContain('CloudWatch AWS/ApplicationELB TargetResponseTime p99 over 60 s must stay ≤ 0.5');
      await b.click(BOB, asked, 'approve');
      await b.waitForApproval(1, 'Baking step 1', WAIT);
      cloudwatch.putDatapoints(metric, [{ at: new Date(), value: 0.9 }]);
      const ended = await b.waitForApproval(1, 'Rolled back to Kubernetes 10% · EC2 90%', WAIT);
      const said = await b.slack.waitFor(() => thread(b, ended).find((t) => t.includes('Gate breached')), WAIT, 'breach in the thread');
      expect(said).toContain('k8s ALB p99 latency');
      expect(said).toContain('0.9 (above max 0.5)');
      expect(said).not.toContain('k8s 5xx ratio');
      expect(b.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });
    });
  });

  it('a CloudWatch datapoint from before the step is no evidence: the ramp pauses, it does not roll back on it', async () => {
    await withCloudWatch(async (cloudwatch, metric) => {
      cloudwatch.putDatapoints(metric, [{ at: new Date(Date.now() - 30_000), value: 0.9 }]);
      const latency = { name: 'k8s ALB p99 latency', cloudwatch: metric, max: 0.5 };
      const b = await start({ steps: [20, 35], bake: '3s', gates: [...gateConfig(), latency] });
      await b.ask(ALICE, 'api ramp');
      await b.click(BOB, await b.waitForApproval(1, 'waits for approval'), 'approve');
      const paused = await b.waitForApproval(1, 'Paused at step 1', WAIT);
      expect(renderedText(paused)).toContain('since the step began');
      expect(b.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });
    });
  });

  it('shows the PromQL error Prometheus gives, and requests nothing', async () => {
    const b = await start({ steps: [20], bake: '1s', gates: [{ name: 'broken', prometheus: { url: prometheus.url, query: 'sum(rate(x[5m]' }, max: 1 }] });
    const reply = await b.ask(ALICE, 'api ramp');
    expect(reply).toContain('broken');
    expect(reply).toMatch(/parse error|unclosed|expected/i);
    expect(b.slack.messages(APPROVALS)).toHaveLength(0);
  });

  it('pauses, saying why, when Prometheus stops answering mid-ramp: no data is never healthy', async () => {
    const b = await start({ steps: [20, 35], bake: '4s', onFailure: 'rollback', gates: gateConfig() });
    await b.ask(ALICE, 'api ramp');
    await b.click(BOB, await b.waitForApproval(1, 'waits for approval'), 'approve');
    await b.waitForApproval(1, 'Baking step 1', WAIT);
    await prometheus.stop();
    try {
      const paused = await b.waitForApproval(1, 'Paused at step 1', WAIT);
      expect(renderedText(paused)).toContain('inconclusive');
      expect(b.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });
      expect(buttonLabels(paused)).toEqual(['Resume', 'Abort']);
    } finally {
      await prometheus.start();
      await prometheusSees(0);
    }
  });
});
