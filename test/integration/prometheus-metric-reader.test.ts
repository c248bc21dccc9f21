/**
 * The Prometheus gate source against a real Prometheus scraping, every second, an exporter whose
 * Kubernetes error counters the test controls.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMetricReaders, readGates } from '../../src/adapters/metric-readers.js';
import type { Gate, GateReading, MetricReader } from '../../src/core/gate.js';
import { gateVerdict } from '../../src/core/gate-verdict.js';
import { type ErrorExporter, startErrorExporter } from '../support/error-exporter.js';
import { type HoldingProxy, startHoldingProxy } from '../support/holding-proxy.js';
import { type PrometheusServer, startPrometheus } from '../support/prometheus-server.js';

const RATIO = 'sum(rate(http_requests_total{service="api",code=~"5.."}[5s])) / sum(rate(http_requests_total{service="api"}[5s]))';

let exporter: ErrorExporter;
let prometheus: PrometheusServer;
let reader: MetricReader;

function gate(query: string, extra: Partial<Gate> = {}, url = prometheus.url): Gate {
  return { name: 'k8s 5xx ratio', prometheus: { url, query }, max: 0.05, failureLimit: 2, ...extra } as Gate;
}

function valueOf(r: GateReading): number {
  if (r.kind !== 'value') throw new Error(`expected a value, got inconclusive: ${r.reason}`);
  return r.value;
}

function reasonOf(r: GateReading): string {
  if (r.kind !== 'inconclusive') throw new Error(`expected inconclusive, got the value ${r.value}`);
  return r.reason;
}

beforeAll(async () => {
  exporter = await startErrorExporter({ traffic: { requestsPerSecond: 200, errorRatio: 0.01 } });
  prometheus = await startPrometheus({ targets: [exporter.target] });
  reader = createMetricReaders({ timeoutMs: 10_000 });
  // Prometheus needs a few scrapes before rate() over 5 s has two samples.
  await vi.waitFor(async () => valueOf(await reader.read(gate(RATIO))), { timeout: 45_000, interval: 250 });
});

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
});

describe('Prometheus gate readings', () => {
  it('reads a healthy error ratio as a value within the bound', async () => {
    const r = await reader.read(gate(RATIO));
    expect(r.gate).toBe('k8s 5xx ratio');
    expect(valueOf(r)).toBeCloseTo(0.01, 3);
    expect(r.kind === 'value' && r.violates).toBe(false);
    const second = await reader.read(gate(RATIO));
    expect(gateVerdict([gate(RATIO)], [r, second], { final: true })).toEqual({ kind: 'healthy' });
  });

  it('sees a breach once the test raises the error rate, on failureLimit consecutive samples', async () => {
    exporter.setTraffic({ errorRatio: 0.3 });
    try {
      const g = gate(RATIO);
      const readings: GateReading[] = [];
      await vi.waitFor(
        async () => {
          readings.push(await reader.read(g));
          expect(gateVerdict([g], readings, { final: false }).kind).toBe('breach');
        },
        { timeout: 30_000, interval: 250 },
      );
      const verdict = gateVerdict([g], readings, { final: false });
      if (verdict.kind !== 'breach') throw new Error('unreachable');
      expect(verdict.problems[0]!.gate).toBe('k8s 5xx ratio');
      expect(verdict.problems[0]!.readings).toHaveLength(2);
      expect(verdict.problems[0]!.reason).toMatch(/^k8s 5xx ratio breached its bound \(≤ 0\.05\) on 2 consecutive samples: 0\.\d+ \(above max 0\.05\), 0\.\d+ \(above max 0\.05\)$/);
    } finally {
      exporter.setTraffic({ errorRatio: 0.01 });
    }
    await vi.waitFor(async () => expect(valueOf(await reader.read(gate(RATIO)))).toBeLessThan(0.05), { timeout: 30_000, interval: 250 });
  });

  it('a query matching no series is inconclusive: empty result', async () => {
    const r = await reader.read(gate('sum(rate(http_requests_total{service="nope"}[5s]))'));
    expect(reasonOf(r)).toBe('empty result: the query matched no series');
  });

  it('a query returning several series is inconclusive: non-scalar, naming them', async () => {
    const reason = reasonOf(await reader.read(gate('rate(http_requests_total{service="api"}[5s])')));
    expect(reason).toMatch(/^non-scalar result: the query returned 2 series \(/);
    expect(reason).toContain('code="500"');
    expect(reason).toContain('aggregate it to one, e.g. with sum()');
  });

  it('a range vector is inconclusive: non-scalar (a matrix)', async () => {
    expect(reasonOf(await reader.read(gate('sum(http_requests_total{service="api"})[5s:1s]')))).toContain('non-scalar result: the query returned a range vector (a matrix)');
  });

  it('NaN (0/0, as with no traffic) is inconclusive, and a scalar query is a value', async () => {
    expect(reasonOf(await reader.read(gate('vector(0) / vector(0)')))).toContain('NaN');
    expect(valueOf(await reader.read(gate('scalar(vector(0.02))')))).toBe(0.02);
  });

  it("a bad PromQL: check() and the reading both give Prometheus's own error text", async () => {
    const bad = gate('sum(rate(http_requests_total[5m])');
    const text = await reader.check(bad);
    expect(text).toMatch(/^Prometheus rejected the query: .*parse error: unclosed left parenthesis/);
    expect(reasonOf(await reader.read(bad))).toBe(text);
    expect(await reader.check(gate(RATIO))).toBeUndefined();
  });

  it('a slow source times out as inconclusive while another gate still reads at once', async () => {
    const proxy: HoldingProxy = await startHoldingProxy(prometheus.url);
    const quick = createMetricReaders({ timeoutMs: 2_000 });
    try {
      proxy.hold();
      const slowGate = gate(RATIO, { name: 'slow' }, proxy.url);
      const fastGate = gate(RATIO, { name: 'fast' });
      let slowDone = false;
      const slow = quick.read(slowGate).finally(() => {
        slowDone = true;
      });
      await vi.waitFor(() => expect(proxy.waiting).toBe(1), { timeout: 10_000, interval: 20 });
      const fast = await quick.read(fastGate);
      expect(valueOf(fast)).toBeGreaterThanOrEqual(0);
      // The fast gate answered while the slow one was still held.
      expect(slowDone).toBe(false);
      expect(proxy.waiting).toBe(1);
      expect(reasonOf(await slow)).toBe('Prometheus did not answer within 2s');
      // Its request was aborted, not left hanging on the proxy.
      await vi.waitFor(() => expect(proxy.waiting).toBe(0), { timeout: 10_000, interval: 20 });

      // Read together, the fast gate's value is not lost to the slow one's timeout.
      const both = await readGates(quick, [slowGate, fastGate]);
      expect(both.map((r) => [r.gate, r.kind])).toEqual([
        ['slow', 'inconclusive'],
        ['fast', 'value'],
      ]);
    } finally {
      proxy.release();
      await proxy.close();
    }
  });

  it('Prometheus stopped: readings are inconclusive, saying it cannot be reached; check() has nothing to say', async () => {
    await prometheus.stop();
    try {
      const reason = reasonOf(await reader.read(gate(RATIO)));
      expect(reason).toBe(`cannot reach Prometheus at ${prometheus.url}: connection refused`);
      expect(await reader.check(gate(RATIO))).toBeUndefined();
      expect(gateVerdict([gate(RATIO)], [await reader.read(gate(RATIO))], { final: true }).kind).toBe('inconclusive');
    } finally {
      await prometheus.start();
    }
    await vi.waitFor(async () => valueOf(await reader.read(gate(RATIO))), { timeout: 45_000, interval: 250 });
  });
});
