import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../src/config/load-config.js';
import { gateSchema, gatesSchema } from '../../src/config/gate-schema.js';
import { type Gate, READINGS_KEPT_PER_GATE } from '../../src/core/gate.js';
import type { RampPlan } from '../../src/core/ramp-plan.js';
import { addReadings, afterSwap, judge, reserveChild, startRun, stepApplied } from '../../src/core/ramp-run.js';
import { snapshotOf } from './request-fixture.js';

const PROM = { url: 'http://prometheus.monitoring:9090', query: 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))' };
const CW = {
  namespace: 'AWS/ApplicationELB',
  metric: 'TargetResponseTime',
  dimensions: { LoadBalancer: 'app/k8s-ingress/0123456789abcdef', TargetGroup: 'targetgroup/api/0123456789abcdef' },
  stat: 'p99',
  periodSeconds: 60,
};

function problems(value: unknown): string[] {
  const r = gatesSchema.safeParse(value, { reportInput: true });
  expect(r.success).toBe(false);
  return r.error!.issues.map(formatIssue);
}

describe('gate schema', () => {
  it('reads the README example into the Gate shape, failureLimit 2 by default', () => {
    const gates: Gate[] = gatesSchema.parse([
      { name: 'k8s 5xx ratio', prometheus: PROM, max: 0.01 },
      { name: 'k8s ALB p99 latency', cloudwatch: CW, max: 0.5 },
    ]);
    expect(gates).toEqual([
      { name: 'k8s 5xx ratio', prometheus: PROM, max: 0.01, failureLimit: 2 },
      { name: 'k8s ALB p99 latency', cloudwatch: CW, max: 0.5, failureLimit: 2 },
    ]);
    expect(gates[0]!.cloudwatch).toBeUndefined();
    expect(gates[1]!.prometheus).toBeUndefined();
  });

  it('fills CloudWatch defaults: no dimensions, Average, 60 s, the bot region', () => {
    const g = gateSchema.parse({ name: 'cpu', cloudwatch: { namespace: 'AWS/EC2', metric: 'CPUUtilization' }, max: 80, failureLimit: 3 });
    expect(g).toEqual({ name: 'cpu', cloudwatch: { namespace: 'AWS/EC2', metric: 'CPUUtilization', dimensions: {}, stat: 'Average', periodSeconds: 60 }, max: 80, failureLimit: 3 });
    expect(gateSchema.parse({ name: 'cpu', cloudwatch: { namespace: 'AWS/EC2', metric: 'CPUUtilization', region: 'eu-west-1' }, min: 1 }).cloudwatch!.region).toBe('eu-west-1');
  });

  it('keeps both bounds for a band', () => {
    expect(gateSchema.parse({ name: 'rps', prometheus: PROM, min: 0.2, max: 0.8 })).toMatchObject({ min: 0.2, max: 0.8 });
  });

  it.each(['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount', 'p50', 'p99', 'p99.9', 'p100', 'tm90', 'TM(10%:90%)'])('accepts the statistic %s', (stat) => {
    expect(gateSchema.parse({ name: 'g', cloudwatch: { ...CW, stat }, max: 1 }).cloudwatch!.stat).toBe(stat);
  });

  it('refuses a gate with neither min nor max, naming the gate', () => {
    expect(problems([{ name: 'k8s 5xx ratio', prometheus: PROM }])).toEqual(['0: gate "k8s 5xx ratio" has neither `min` nor `max`: give at least one bound, or it watches nothing']);
  });

  it('refuses a gate with no source and one with both, naming the gate', () => {
    expect(problems([{ name: 'nothing', max: 1 }])).toEqual(['0: gate "nothing" must have exactly one metric source, `prometheus` or `cloudwatch`, and has neither']);
    expect(problems([{ name: 'both', prometheus: PROM, cloudwatch: CW, max: 1 }])).toEqual(['0: gate "both" must have exactly one metric source, `prometheus` or `cloudwatch`, not both']);
  });

  it('lists every problem of a gate at once', () => {
    const found = problems([{ prometheus: { url: 'prometheus:9090', query: ' ' }, failureLimit: 0 }]);
    expect(found).toEqual(
      expect.arrayContaining([
        '0.name: required',
        '0.prometheus.url: must be the http(s) URL of a Prometheus server, e.g. http://prometheus.monitoring:9090',
        '0.prometheus.query: must be a PromQL expression',
        '0.failureLimit: Too small: expected number to be >=1',
        '0: this gate has neither `min` nor `max`: give at least one bound, or it watches nothing',
      ]),
    );
  });

  it('refuses min above max', () => {
    expect(problems([{ name: 'band', prometheus: PROM, min: 2, max: 1 }])).toEqual(['0.min: gate "band" has min 2 above max 1: no reading could pass']);
  });

  it('refuses bad CloudWatch fields with their meaning', () => {
    const found = problems([{ name: 'cw', cloudwatch: { ...CW, stat: 'median', periodSeconds: 45, region: 'Ireland', extra: 1 }, max: 1 }]);
    expect(found).toEqual([
      '0.cloudwatch.stat: must be a CloudWatch statistic: Average, Sum, Minimum, Maximum, SampleCount, or a percentile such as p99',
      '0.cloudwatch.periodSeconds: must be 1, 5, 10, 30 or a multiple of 60 (CloudWatch periods)',
      '0.cloudwatch.region: must be an AWS region such as eu-west-1',
      '0.cloudwatch.extra: unknown field',
    ]);
  });

  it('refuses unknown fields, a string bound and two gates with one name', () => {
    expect(problems([{ name: 'g', prometheus: PROM, max: '1%', threshold: 1 }])).toEqual(
      expect.arrayContaining(['0.threshold: unknown field', '0.max: Invalid input: expected number, received string']),
    );
    expect(problems([{ name: 'g', prometheus: PROM, max: 1 }, { name: 'g', cloudwatch: CW, max: 1 }])).toEqual(['1.name: two gates are called "g"; names must differ (they label readings)']);
  });
});

describe('gate schema: limits that keep a gate honest', () => {
  it(`refuses a failureLimit above the ${READINGS_KEPT_PER_GATE} readings a bake keeps, saying why`, () => {
    expect(gateSchema.parse({ name: 'r', prometheus: PROM, max: 1, failureLimit: READINGS_KEPT_PER_GATE }).failureLimit).toBe(READINGS_KEPT_PER_GATE);
    expect(problems([{ name: 'r', prometheus: PROM, max: 1, failureLimit: READINGS_KEPT_PER_GATE + 1 }])).toEqual([
      `0.failureLimit: must be at most ${READINGS_KEPT_PER_GATE}: a bake keeps only the newest ${READINGS_KEPT_PER_GATE} readings of a gate, so a longer run of violations could never be counted and the gate could never breach`,
    ]);
  });

  it('the largest failureLimit the schema takes can still breach in a ramp run', () => {
    const gate = gateSchema.parse({ name: 'r', prometheus: PROM, max: 0.01, failureLimit: READINGS_KEPT_PER_GATE });
    const plan: RampPlan = { steps: [20], bakeMs: 60_000, onFailure: 'rollback', gates: [gate] };
    const snap = snapshotOf({ kubernetes: 10, ec2: 90 });
    let run = stepApplied(reserveChild(startRun(snap), 7), plan, 7, afterSwap(snap, { kubernetes: 20, ec2: 80 }), 1000);
    for (let i = 0; i < READINGS_KEPT_PER_GATE + 5; i++) {
      run = addReadings(run, [{ gate: 'r', at: 1001 + i, kind: 'value', value: 0.5, violates: true }]);
    }
    expect(judge(run, [gate], false).kind).toBe('breach');
  });

  it('refuses a Prometheus URL with a user or password, never echoing it', () => {
    for (const url of ['http://admin:s3cr3t-pw@prometheus.monitoring:9090', 'https://s3cr3t-pw@prometheus.monitoring:9090']) {
      const found = problems([{ name: 'p', prometheus: { ...PROM, url }, max: 1 }]);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^0\.prometheus\.url: must not carry a user or password/);
      expect(found[0]).not.toContain('s3cr3t-pw');
    }
  });
});
