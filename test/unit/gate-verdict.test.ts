import { describe, expect, it } from 'vitest';
import type { Gate, GateReading } from '../../src/core/gate.js';
import { describeBound, describeReading, describeVerdict, formatValue, gateVerdict, violatesBound } from '../../src/core/gate-verdict.js';

const ratio: Gate = { name: 'k8s 5xx ratio', prometheus: { url: 'http://prom:9090', query: 'x' }, max: 0.01, failureLimit: 2 };
const success: Gate = { name: 'success', prometheus: { url: 'http://prom:9090', query: 'y' }, min: 0.99, failureLimit: 1 };
const latency: Gate = {
  name: 'p99 latency',
  cloudwatch: { namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', dimensions: {}, stat: 'p99', periodSeconds: 60 },
  max: 0.5,
  failureLimit: 3,
};

let clock = 0;
function value(gate: Gate, v: number): GateReading {
  return { gate: gate.name, at: ++clock, kind: 'value', value: v, violates: violatesBound(gate, v) };
}
function unsure(gate: Gate, reason: string): GateReading {
  return { gate: gate.name, at: ++clock, kind: 'inconclusive', reason };
}

describe('violatesBound and describeBound', () => {
  it('treats a reading equal to the bound as within it', () => {
    expect(violatesBound(ratio, 0.01)).toBe(false);
    expect(violatesBound(ratio, 0.0101)).toBe(true);
    expect(violatesBound(success, 0.99)).toBe(false);
    expect(violatesBound(success, 0.98)).toBe(true);
    expect(violatesBound({ min: 1, max: 2 }, 0.5)).toBe(true);
    expect(violatesBound({ min: 1, max: 2 }, 2.5)).toBe(true);
    expect(violatesBound({ min: 1, max: 2 }, 1.5)).toBe(false);
  });

  it('says bounds as people read them', () => {
    expect(describeBound(ratio)).toBe('≤ 0.01');
    expect(describeBound(success)).toBe('≥ 0.99');
    expect(describeBound({ min: 0.2, max: 0.8 })).toBe('between 0.2 and 0.8');
    expect(formatValue(0.012345678)).toBe('0.01235');
    expect(formatValue(1234567)).toBe('1235000');
    expect(describeReading(ratio, value(ratio, 0.05))).toBe('0.05 (above max 0.01)');
    expect(describeReading(success, value(success, 0.5))).toBe('0.5 (below min 0.99)');
    expect(describeReading(ratio, unsure(ratio, 'empty result'))).toBe('inconclusive: empty result');
  });
});

describe('gateVerdict', () => {
  it('is healthy when every gate ends within its bounds', () => {
    const readings = [value(ratio, 0.001), value(latency, 0.2), value(ratio, 0.02), value(ratio, 0.002), value(latency, 0.3)];
    expect(gateVerdict([ratio, latency], readings, { final: true })).toEqual({ kind: 'healthy' });
  });

  it('is pending, not healthy, while the bake goes on', () => {
    expect(gateVerdict([ratio], [value(ratio, 0.001)], { final: false })).toEqual({ kind: 'pending' });
    expect(gateVerdict([ratio], [unsure(ratio, 'empty result')], { final: false })).toEqual({ kind: 'pending' });
  });

  it('is a breach after failureLimit consecutive violations, naming the gate and its readings, even mid-bake', () => {
    const readings = [value(ratio, 0.001), value(ratio, 0.02), value(latency, 0.1), value(ratio, 0.05)];
    const v = gateVerdict([ratio, latency], readings, { final: false });
    expect(v.kind).toBe('breach');
    if (v.kind !== 'breach') return;
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]!.gate).toBe('k8s 5xx ratio');
    expect(v.problems[0]!.readings.map((r) => (r.kind === 'value' ? r.value : NaN))).toEqual([0.02, 0.05]);
    expect(v.problems[0]!.reason).toBe('k8s 5xx ratio breached its bound (≤ 0.01) on 2 consecutive samples: 0.02 (above max 0.01), 0.05 (above max 0.01)');
    expect(describeVerdict(v)).toBe(v.problems[0]!.reason);
  });

  it('does not count violations that are not consecutive', () => {
    const readings = [value(ratio, 0.02), value(ratio, 0.001), value(ratio, 0.02), value(ratio, 0.001)];
    expect(gateVerdict([ratio], readings, { final: true })).toEqual({ kind: 'healthy' });
  });

  it('lets an inconclusive sample break a run of violations', () => {
    const readings = [value(ratio, 0.02), unsure(ratio, 'Prometheus unreachable'), value(ratio, 0.02)];
    const v = gateVerdict([ratio], readings, { final: true });
    expect(v.kind).toBe('inconclusive');
  });

  it('with failureLimit 1, breaches on the first violation of a min', () => {
    const v = gateVerdict([success], [value(success, 0.999), value(success, 0.9)], { final: false });
    expect(v.kind).toBe('breach');
    expect(describeVerdict(v)).toBe('success breached its bound (≥ 0.99) on 1 consecutive sample: 0.9 (below min 0.99)');
  });

  it('lists every breached gate, in the order of the gates, and a breach wins over doubt', () => {
    const readings = [value(latency, 0.9), value(ratio, 0.5), unsure(success, 'empty result'), value(latency, 0.9), value(ratio, 0.5), value(latency, 0.9)];
    const v = gateVerdict([ratio, success, latency], readings, { final: true });
    expect(v.kind).toBe('breach');
    if (v.kind !== 'breach') return;
    expect(v.problems.map((p) => p.gate)).toEqual(['k8s 5xx ratio', 'p99 latency']);
  });

  it('is inconclusive when a gate had no reading at all: no data is never healthy', () => {
    const v = gateVerdict([ratio, latency], [value(ratio, 0.001)], { final: true });
    expect(v).toEqual({
      kind: 'inconclusive',
      problems: [{ gate: 'p99 latency', readings: [], reason: 'p99 latency: no reading was taken during the bake, and no data is never taken as healthy' }],
    });
  });

  it('is inconclusive when a gate ends on an inconclusive reading, giving its reason', () => {
    const readings = [value(ratio, 0.001), unsure(ratio, 'empty result: the query matched no series')];
    const v = gateVerdict([ratio], readings, { final: true });
    expect(v.kind).toBe('inconclusive');
    expect(describeVerdict(v)).toBe('k8s 5xx ratio: empty result: the query matched no series');
  });

  it('is inconclusive, not healthy, when the last samples violate but fewer than failureLimit in a row', () => {
    const v = gateVerdict([latency], [value(latency, 0.1), value(latency, 0.7), value(latency, 0.8)], { final: true });
    expect(v.kind).toBe('inconclusive');
    expect(describeVerdict(v)).toBe(
      'p99 latency is outside its bound (≤ 0.5) on its last 2 samples: 0.7 (above max 0.5), 0.8 (above max 0.5); 3 in a row make a breach, so it is neither a breach nor healthy yet',
    );
  });

  it('judges readings by their time, not their order in the list', () => {
    const a = value(ratio, 0.02);
    const b = value(ratio, 0.001);
    const c = value(ratio, 0.03);
    // In time order a, b, c: no two violations in a row.
    expect(gateVerdict([ratio], [c, a, b], { final: false })).toEqual({ kind: 'pending' });
  });

  it('ignores readings of gates it was not given, and with no gates at all is healthy when final', () => {
    const other: Gate = { ...ratio, name: 'other' };
    expect(gateVerdict([ratio], [value(other, 1), value(other, 1), value(ratio, 0)], { final: true })).toEqual({ kind: 'healthy' });
    expect(gateVerdict([], [], { final: true })).toEqual({ kind: 'healthy' });
    expect(describeVerdict({ kind: 'healthy' })).toBe('');
  });
});
