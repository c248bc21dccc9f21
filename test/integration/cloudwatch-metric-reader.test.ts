/**
 * The CloudWatch gate source: the real @aws-sdk/client-cloudwatch, configured only through the
 * environment (standard credential chain, AWS_REGION, AWS_ENDPOINT_URL_CLOUDWATCH), against a
 * stand-in speaking the wire protocol that SDK version sends (see cloudwatch-stand-in.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMetricReaders } from '../../src/adapters/metric-readers.js';
import type { Gate, GateReading, MetricReader } from '../../src/core/gate.js';
import { type CloudWatchStandIn, startCloudWatchStandIn } from '../support/cloudwatch-stand-in.js';

const DIMENSIONS = { LoadBalancer: 'app/k8s-ingress/0123456789abcdef', TargetGroup: 'targetgroup/api/0123456789abcdef' };
const latency: Gate = {
  name: 'k8s ALB p99 latency',
  cloudwatch: { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', dimensions: DIMENSIONS, stat: 'p99', periodSeconds: 60 },
  max: 0.5,
  failureLimit: 2,
};
const KEY = { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', dimensions: DIMENSIONS, stat: 'p99', periodSeconds: 60 };

let standIn: CloudWatchStandIn;
let reader: MetricReader;
const saved: Record<string, string | undefined> = {};

function setEnv(name: string, value: string): void {
  if (!(name in saved)) saved[name] = process.env[name];
  process.env[name] = value;
}

function reasonOf(r: GateReading): string {
  if (r.kind !== 'inconclusive') throw new Error(`expected inconclusive, got the value ${r.value}`);
  return r.reason;
}

beforeAll(async () => {
  standIn = await startCloudWatchStandIn();
  setEnv('AWS_ENDPOINT_URL_CLOUDWATCH', standIn.url);
  setEnv('AWS_REGION', 'eu-west-1');
  setEnv('AWS_ACCESS_KEY_ID', 'AKIDSTANDIN');
  setEnv('AWS_SECRET_ACCESS_KEY', 'stand-in-secret');
  setEnv('AWS_EC2_METADATA_DISABLED', 'true');
  reader = createMetricReaders({ timeoutMs: 10_000 });
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await standIn?.close();
});

describe('CloudWatch gate readings', () => {
  it('reads the newest datapoint of a p99, sent as AWS JSON 1.0 with awsQuery compatibility to AWS_ENDPOINT_URL_CLOUDWATCH', async () => {
    const now = Date.now();
    standIn.putDatapoints(KEY, [
      { at: new Date(now - 180_000), value: 0.9 },
      { at: new Date(now - 60_000), value: 0.21 },
      { at: new Date(now - 120_000), value: 0.3 },
    ]);
    const before = standIn.calls.length;
    const r = await reader.read(latency);
    expect(r).toMatchObject({ gate: 'k8s ALB p99 latency', kind: 'value', value: 0.21, violates: false });

    const call = standIn.calls[before]!;
    expect(call.operation).toBe('GetMetricData');
    expect(call.headers).toEqual({ target: 'GraniteServiceVersion20100801.GetMetricData', queryMode: 'true', contentType: 'application/x-amz-json-1.0' });
    expect(call.scope).toBe('eu-west-1/monitoring');
    const body = call.body as { MetricDataQueries: Array<{ MetricStat: Record<string, unknown> }>; StartTime: number; EndTime: number; ScanBy: string };
    // A percentile goes in MetricStat.Stat as it is.
    expect(body.MetricDataQueries[0]!.MetricStat).toEqual({
      Metric: {
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'TargetResponseTime',
        Dimensions: [
          { Name: 'LoadBalancer', Value: DIMENSIONS.LoadBalancer },
          { Name: 'TargetGroup', Value: DIMENSIONS.TargetGroup },
        ],
      },
      Period: 60,
      Stat: 'p99',
    });
    expect(body.EndTime - body.StartTime).toBe(300);
    expect(body.ScanBy).toBe('TimestampDescending');
  });

  it('a value above max violates the bound', async () => {
    standIn.putDatapoints(KEY, [{ at: new Date(Date.now() - 30_000), value: 0.75 }]);
    expect(await reader.read(latency)).toMatchObject({ kind: 'value', value: 0.75, violates: true });
  });

  it('signs for the region the gate names', async () => {
    const before = standIn.calls.length;
    await reader.read({ ...latency, cloudwatch: { ...latency.cloudwatch!, region: 'us-west-2' } });
    expect(standIn.calls[before]!.scope).toBe('us-west-2/monitoring');
    await reader.read(latency);
    expect(standIn.calls[before + 1]!.scope).toBe('eu-west-1/monitoring');
  });

  it('no datapoints is inconclusive, never 0', async () => {
    const r = await reader.read({ ...latency, cloudwatch: { ...latency.cloudwatch!, metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum' } });
    expect(reasonOf(r)).toBe('no datapoints: AWS/ApplicationELB HTTPCode_Target_5XX_Count (Sum) has none in the last 5m');
  });

  it("an AWS error is inconclusive with CloudWatch's message, and check() gives it too", async () => {
    const message = 'The value p99x for parameter MetricDataQueries.member.1.MetricStat.Stat is invalid.';
    standIn.failNext({ code: 'InvalidParameterValue', shape: 'InvalidParameterValueException', message }, 2);
    const reason = reasonOf(await reader.read(latency));
    expect(reason).toContain('CloudWatch answered HTTP 400');
    expect(reason).toContain(message);
    expect(await reader.check(latency)).toBe(`CloudWatch refused the query: InvalidParameterValueException: ${message}`);
    expect(await reader.check(latency)).toBeUndefined();
  });

  it('access denied says so, naming the missing permission as AWS does', async () => {
    const message = 'User: arn:aws:sts::123456789012:assumed-role/strangler/x is not authorized to perform: cloudwatch:GetMetricData';
    standIn.failNext({ code: 'AccessDenied', shape: 'AccessDeniedException', status: 403, message });
    const reason = reasonOf(await reader.read(latency));
    expect(reason).toContain('HTTP 403');
    expect(reason).toContain('not authorized to perform: cloudwatch:GetMetricData');
  });

  it('a slow CloudWatch times out as inconclusive, while another gate reads at once', async () => {
    const quick = createMetricReaders({ timeoutMs: 2_000 });
    standIn.putDatapoints(KEY, [{ at: new Date(Date.now() - 30_000), value: 0.2 }]);
    const held = standIn.holdNext();
    try {
      let slowDone = false;
      const slow = quick.read({ ...latency, name: 'slow' }).finally(() => {
        slowDone = true;
      });
      await held.reached;
      const fast = await quick.read({ ...latency, name: 'fast' });
      expect(fast).toMatchObject({ gate: 'fast', kind: 'value', value: 0.2 });
      expect(slowDone).toBe(false);
      expect(reasonOf(await slow)).toBe('CloudWatch did not answer within 2s');
    } finally {
      held.release();
    }
  });

  it('CloudWatch unreachable is inconclusive', async () => {
    const gone = await startCloudWatchStandIn();
    const url = gone.url;
    await gone.close();
    setEnv('AWS_ENDPOINT_URL_CLOUDWATCH', url);
    try {
      const fresh = createMetricReaders({ timeoutMs: 10_000 });
      await vi.waitFor(async () => expect(reasonOf(await fresh.read(latency))).toBe('cannot reach CloudWatch: connection refused'), { timeout: 20_000 });
    } finally {
      setEnv('AWS_ENDPOINT_URL_CLOUDWATCH', standIn.url);
    }
  });
});

describe('CloudWatch gate readings since the step began', () => {
  // A fixed clock, in the past so the stand-in's own EndTime filter never hides a datapoint.
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  const KEY_SINCE = { ...KEY, metric: 'TargetResponseTimeSince' };
  const gate: Gate = { ...latency, cloudwatch: { ...latency.cloudwatch!, metric: 'TargetResponseTimeSince' } };

  it('asks from the step on, and reads a datapoint whose period starts after it', async () => {
    const since = minute + 20_000;
    standIn.putDatapoints(KEY_SINCE, [
      { at: new Date(minute), value: 0.9 },
      { at: new Date(minute + 60_000), value: 0.2 },
    ]);
    const at = createMetricReaders({ timeoutMs: 10_000, now: () => minute + 110_000 });
    const before = standIn.calls.length;
    expect(await at.read(gate, { since })).toMatchObject({ kind: 'value', value: 0.2, violates: false });
    const body = standIn.calls[before]!.body as { StartTime: number; EndTime: number };
    expect(body.StartTime * 1000).toBe(since);
    expect(body.EndTime * 1000).toBe(minute + 110_000);
  });

  it('a datapoint from before the step is inconclusive, even when CloudWatch returns it (StartTime rounds down to the minute)', async () => {
    standIn.putDatapoints(KEY_SINCE, [{ at: new Date(minute), value: 0.9 }]);
    const at = createMetricReaders({ timeoutMs: 10_000, now: () => minute + 50_000 });
    // Without `since`, the newest datapoint is read, however old (the step's start is not known).
    expect(await at.read(gate)).toMatchObject({ kind: 'value', value: 0.9, violates: true });
    const reason = reasonOf(await at.read(gate, { since: minute + 20_000 }));
    expect(reason).toMatch(/^no datapoint since the step began: AWS\/ApplicationELB TargetResponseTimeSince \(p99\) has none for a period starting after the step; the newest is from 20s before it/);
  });

  it('none at all since the step says so', async () => {
    standIn.putDatapoints(KEY_SINCE, [{ at: new Date(minute - 5 * 60_000), value: 0.9 }]);
    const at = createMetricReaders({ timeoutMs: 10_000, now: () => minute + 50_000 });
    expect(reasonOf(await at.read(gate, { since: minute + 20_000 }))).toBe('no datapoints: AWS/ApplicationELB TargetResponseTimeSince (p99) has none since the step began');
  });

  it('a step older than the usual lookback reads the usual lookback', async () => {
    standIn.putDatapoints(KEY_SINCE, [{ at: new Date(minute), value: 0.3 }]);
    const at = createMetricReaders({ timeoutMs: 10_000, now: () => minute + 50_000 });
    const before = standIn.calls.length;
    expect(await at.read(gate, { since: minute - 60 * 60_000 })).toMatchObject({ kind: 'value', value: 0.3 });
    const body = standIn.calls[before]!.body as { StartTime: number; EndTime: number };
    expect(body.EndTime - body.StartTime).toBe(300);
  });
});
