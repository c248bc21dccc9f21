/**
 * The dispatcher's own rules, with sources that are plain objects (no network): which source a
 * gate goes to, the timeout that answers for a source that does not, and a source that throws.
 * The real sources are tested against a real Prometheus and the CloudWatch stand-in.
 */
import { describe, expect, it } from 'vitest';
import { createMetricReaders, readGates } from '../../src/adapters/metric-readers.js';
import type { MetricSource } from '../../src/adapters/metric-source.js';
import { PrometheusMetricReader, singleValue } from '../../src/adapters/prometheus-metric-reader.js';
import type { Gate, GateReading } from '../../src/core/gate.js';

const prom: Gate = { name: 'prom', prometheus: { url: 'http://prom:9090', query: 'up' }, max: 1, failureLimit: 2 };
const cw: Gate = { name: 'cw', cloudwatch: { namespace: 'AWS/EC2', metric: 'CPUUtilization', dimensions: {}, stat: 'Average', periodSeconds: 60 }, max: 80, failureLimit: 2 };

function answering(value: number, seen: string[] = []): MetricSource {
  return {
    read: async (gate) => {
      seen.push(gate.name);
      return { gate: gate.name, at: 1, kind: 'value', value, violates: false };
    },
    check: async () => 'refused',
  };
}

/** Never answers, but notes when its signal is aborted. */
function hanging(aborted: AbortSignal[]): MetricSource {
  const wait = (signal: AbortSignal) =>
    new Promise<never>(() => {
      signal.addEventListener('abort', () => aborted.push(signal));
    });
  return { read: (_g, signal) => wait(signal), check: (_g, signal) => wait(signal) };
}

describe('createMetricReaders', () => {
  it('sends each gate to its own source', async () => {
    const seenP: string[] = [];
    const seenC: string[] = [];
    const reader = createMetricReaders({ timeoutMs: 1000, prometheus: answering(0.5, seenP), cloudwatch: answering(42, seenC) });
    expect(await reader.read(prom)).toMatchObject({ kind: 'value', value: 0.5 });
    expect(await reader.read(cw)).toMatchObject({ kind: 'value', value: 42 });
    expect(seenP).toEqual(['prom']);
    expect(seenC).toEqual(['cw']);
    expect(await reader.check(cw)).toBe('refused');
  });

  it('answers inconclusive when a source runs out of time, and aborts its request', async () => {
    const aborted: AbortSignal[] = [];
    const reader = createMetricReaders({ timeoutMs: 50, prometheus: hanging(aborted), cloudwatch: hanging(aborted), now: () => 7 });
    expect(await reader.read(prom)).toEqual({ gate: 'prom', at: 7, kind: 'inconclusive', reason: 'Prometheus did not answer within 50 ms' });
    expect(await reader.read(cw)).toMatchObject({ kind: 'inconclusive', reason: 'CloudWatch did not answer within 50 ms' });
    expect(await reader.check(prom)).toBeUndefined();
    expect(aborted).toHaveLength(3);
    expect(aborted.every((s) => s.aborted)).toBe(true);
  });

  it('turns a source that throws into an inconclusive reading, never a rejection', async () => {
    const broken: MetricSource = {
      read: async () => {
        throw new Error('boom');
      },
      check: async () => {
        throw new Error('boom');
      },
    };
    const reader = createMetricReaders({ timeoutMs: 1000, prometheus: broken });
    expect(await reader.read(prom)).toMatchObject({ kind: 'inconclusive', reason: 'reading Prometheus failed: boom' });
    expect(await reader.check(prom)).toBeUndefined();
  });

  it('readGates reads all at once: a hanging gate costs one timeout, not one per gate', async () => {
    const reader = createMetricReaders({ timeoutMs: 1000, prometheus: hanging([]), cloudwatch: answering(1) });
    const gates = [prom, { ...prom, name: 'prom2' }, { ...prom, name: 'prom3' }, cw];
    const started = Date.now();
    const readings: GateReading[] = await readGates(reader, gates);
    // Three hanging gates read one after another would take at least 3 s.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(readings.map((r) => `${r.gate} ${r.kind}`)).toEqual(['prom inconclusive', 'prom2 inconclusive', 'prom3 inconclusive', 'cw value']);
  });
});

describe('singleValue (a Prometheus instant-query result)', () => {
  it.each([
    [{ resultType: 'scalar', result: [1, '0.5'] }, 0.5],
    [{ resultType: 'vector', result: [{ metric: {}, value: [1, '0.01'] }] }, 0.01],
    [{ resultType: 'vector', result: [{ metric: {}, value: [1, '+Inf'] }] }, Infinity],
    [{ resultType: 'vector', result: [{ metric: {}, value: [1, '-Inf'] }] }, -Infinity],
  ])('reads %j as %d', (data, value) => {
    expect(singleValue(data)).toBe(value);
  });

  it('says why there is not exactly one number', () => {
    expect(singleValue({ resultType: 'vector', result: [] })).toBe('empty result: the query matched no series');
    expect(singleValue({ resultType: 'vector', result: [1, 2, 3, 4].map((i) => ({ metric: { pod: `p${i}` }, value: [1, '1'] })) })).toBe(
      'non-scalar result: the query returned 4 series ({pod="p1"}, {pod="p2"}, {pod="p3"}, …); aggregate it to one, e.g. with sum()',
    );
    expect(singleValue({ resultType: 'matrix', result: [] })).toContain('range vector (a matrix)');
    expect(singleValue({ resultType: 'string', result: [1, 'x'] })).toBe('non-scalar result: the query returned a string, not a number');
    expect(singleValue({ resultType: 'vector', result: [{ metric: {}, value: [1, ''] }] })).toBe('Prometheus gave a malformed sample');
    expect(Number.isNaN(singleValue({ resultType: 'scalar', result: [1, 'NaN'] }))).toBe(true);
  });
});

describe('no password from a gate URL reaches a reading', () => {
  it("Node's fetch refuses a URL with credentials, quoting it: the reading says so without the password", async () => {
    const gate: Gate = { name: 'p', prometheus: { url: 'http://admin:s3cr3t-pw@127.0.0.1:9/', query: 'up' }, max: 1, failureLimit: 2 };
    const r = await new PrometheusMetricReader().read(gate, new AbortController().signal);
    expect(r.kind).toBe('inconclusive');
    const reason = (r as Extract<GateReading, { kind: 'inconclusive' }>).reason;
    expect(reason).toContain('includes credentials: http://…@127.0.0.1:9/api/v1/query');
    expect(reason).not.toContain('s3cr3t-pw');
    expect(reason).not.toContain('admin');
  });

  it('a source that throws with such a URL in its message is redacted too', async () => {
    const throwing: MetricSource = {
      read: async () => {
        throw new Error('could not open https://bot:s3cr3t-pw@metrics.internal/x');
      },
      check: async () => undefined,
    };
    const r = await createMetricReaders({ timeoutMs: 5_000, prometheus: throwing }).read(prom);
    expect(r).toMatchObject({ kind: 'inconclusive', reason: 'reading Prometheus failed: could not open https://…@metrics.internal/x' });
  });
});
