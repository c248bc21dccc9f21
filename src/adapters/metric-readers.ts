/**
 * The core's MetricReader over every metric source: picks Prometheus or CloudWatch by the gate,
 * and bounds each read with a timeout. A read that runs out is an inconclusive reading at once
 * and its request is aborted, so a slow source delays nobody; readGates reads gates concurrently,
 * so one slow gate does not hold up the others either.
 *
 * The CloudWatch SDK is loaded on the first CloudWatch gate only: a bot without one never pays
 * for it (test/e2e/processes.test.ts keeps heavy clients out of the start-up path).
 */
import { formatDuration } from '../core/duration.js';
import type { Gate, GateReading, MetricReader, ReadOptions } from '../core/gate.js';
import { redactUrlCredentials } from '../core/redact-url.js';
import type { MetricSource } from './metric-source.js';
import { PrometheusMetricReader } from './prometheus-metric-reader.js';

export interface MetricReadersOptions {
  /** Longest a read or a check may take (STRANGLER_GATE_READ_TIMEOUT_MS). */
  timeoutMs: number;
  prometheus?: MetricSource;
  /** Absent: a CloudWatchMetricReader created on first use, with the SDK's default chain. */
  cloudwatch?: MetricSource;
  now?: () => number;
}

export function createMetricReaders(opts: MetricReadersOptions): MetricReader {
  const now = opts.now ?? Date.now;
  const prometheus = opts.prometheus ?? new PrometheusMetricReader({ now });
  let cloudwatch: Promise<MetricSource> | undefined = opts.cloudwatch ? Promise.resolve(opts.cloudwatch) : undefined;
  const cloudwatchSource = (): Promise<MetricSource> => {
    cloudwatch ??= import('./cloudwatch-metric-reader.js').then((m) => new m.CloudWatchMetricReader({ now }));
    return cloudwatch;
  };
  const sourceOf = (gate: Gate): Promise<MetricSource> => (gate.cloudwatch ? cloudwatchSource() : Promise.resolve(prometheus));
  const sourceName = (gate: Gate): string => (gate.cloudwatch ? 'CloudWatch' : 'Prometheus');

  return {
    read: (gate, options) => {
      const at = now();
      return bounded(
        opts.timeoutMs,
        async (signal) => (await sourceOf(gate)).read(gate, signal, options),
        () => ({ gate: gate.name, at, kind: 'inconclusive', reason: `${sourceName(gate)} did not answer within ${describeMs(opts.timeoutMs)}` }),
        (err) => ({ gate: gate.name, at, kind: 'inconclusive', reason: `reading ${sourceName(gate)} failed: ${redactUrlCredentials(err instanceof Error ? err.message : String(err))}` }),
      );
    },
    check: (gate) =>
      bounded(
        opts.timeoutMs,
        async (signal) => (await sourceOf(gate)).check(gate, signal),
        () => undefined,
        () => undefined,
      ),
  };
}

/** Reads every gate at once; resolves when the slowest has answered or timed out. */
export function readGates(reader: MetricReader, gates: readonly Gate[], options?: ReadOptions): Promise<GateReading[]> {
  return Promise.all(gates.map((g) => reader.read(g, options)));
}

/** Runs `work` with a signal aborted after `timeoutMs`; the timeout's answer wins at once, without waiting for `work` to notice. */
function bounded<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>, onTimeout: () => T, onError: (err: unknown) => T): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => {
      controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
      resolve(onTimeout());
    }, timeoutMs);
    work(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        resolve(onError(err));
      },
    );
  });
}

function describeMs(ms: number): string {
  return ms % 1000 === 0 ? formatDuration(ms) : `${ms} ms`;
}
