/**
 * Gate readings from Prometheus's HTTP API: one instant query (`GET /api/v1/query`) per reading.
 * A gate needs one number, so only a one-series vector or a scalar is a value; everything else
 * (no series, several, a range vector, a string, NaN) is inconclusive with a reason saying which,
 * because a ramp must never take "nothing to compare" as healthy.
 */
import { violatesBound } from '../core/gate-verdict.js';
import type { Gate, GateReading } from '../core/gate.js';
import { redactUrlCredentials } from '../core/redact-url.js';
import { connectionProblem } from './connection-problem.js';
import type { MetricSource } from './metric-source.js';

interface PromSuccess {
  status: 'success';
  data: { resultType: string; result: unknown };
}
interface PromError {
  status: 'error';
  errorType?: string;
  error?: string;
}

type Answer = { ok: true; data: PromSuccess['data'] } | { ok: false; rejected: boolean; reason: string };

export interface PrometheusMetricReaderOptions {
  fetch?: typeof fetch;
  now?: () => number;
}

export class PrometheusMetricReader implements MetricSource {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(opts: PrometheusMetricReaderOptions = {}) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.now = opts.now ?? Date.now;
  }

  async read(gate: Gate, signal: AbortSignal): Promise<GateReading> {
    const at = this.now();
    const inconclusive = (reason: string): GateReading => ({ gate: gate.name, at, kind: 'inconclusive', reason });
    if (!gate.prometheus) return inconclusive('not a Prometheus gate');
    const answer = await this.query(gate.prometheus.url, gate.prometheus.query, signal);
    if (!answer.ok) return inconclusive(answer.reason);
    const value = singleValue(answer.data);
    if (typeof value === 'string') return inconclusive(value);
    if (Number.isNaN(value)) return inconclusive('the query gave NaN (often 0/0: no traffic in the window)');
    return { gate: gate.name, at, kind: 'value', value, violates: violatesBound(gate, value) };
  }

  async check(gate: Gate, signal: AbortSignal): Promise<string | undefined> {
    if (!gate.prometheus) return undefined;
    const answer = await this.query(gate.prometheus.url, gate.prometheus.query, signal);
    return !answer.ok && answer.rejected ? answer.reason : undefined;
  }

  private async query(base: string, query: string, signal: AbortSignal): Promise<Answer> {
    const url = new URL('api/v1/query', base.endsWith('/') ? base : `${base}/`);
    let res: Response;
    let text: string;
    try {
      // POST with a form body: a long PromQL would not fit a URL, and Prometheus takes both.
      res = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ query }).toString(),
        signal,
      });
      text = await res.text();
    } catch (err) {
      // The client's own text may quote the URL, credentials and all (the schema refuses those, but
      // a reader must not rely on it): it reaches Slack, so it is redacted.
      const why = connectionProblem(err) ?? redactUrlCredentials(err instanceof Error ? err.message : String(err));
      return { ok: false, rejected: false, reason: `cannot reach Prometheus at ${url.origin}: ${why}` };
    }
    let body: PromSuccess | PromError | undefined;
    try {
      body = JSON.parse(text) as PromSuccess | PromError;
    } catch {
      body = undefined;
    }
    if (body?.status === 'success' && typeof body.data === 'object' && body.data !== null) return { ok: true, data: body.data };
    if (body?.status === 'error' && typeof body.error === 'string') {
      // 400 bad_data (PromQL does not parse) and 422 execution errors are about the query itself;
      // 503 (timeout, canceled) and 5xx are Prometheus having trouble, not the query being wrong.
      const rejected = res.status === 400 || res.status === 422 || body.errorType === 'bad_data' || body.errorType === 'execution';
      return { ok: false, rejected, reason: `Prometheus ${rejected ? 'rejected the query' : `answered HTTP ${res.status}`}: ${body.error}` };
    }
    return { ok: false, rejected: false, reason: `Prometheus at ${url.origin} answered HTTP ${res.status} with no Prometheus API body${snippet(text)}` };
  }
}

/** The one number in an instant-query result, or why there is not exactly one. */
export function singleValue(data: { resultType: string; result: unknown }): number | string {
  switch (data.resultType) {
    case 'scalar':
      return sampleValue(data.result) ?? 'Prometheus gave a malformed scalar';
    case 'vector': {
      const series = Array.isArray(data.result) ? (data.result as Array<{ metric?: Record<string, string>; value?: unknown }>) : [];
      if (series.length === 0) return 'empty result: the query matched no series';
      if (series.length > 1) {
        const shown = series.slice(0, 3).map((s) => labels(s.metric)).join(', ');
        return `non-scalar result: the query returned ${series.length} series (${shown}${series.length > 3 ? ', …' : ''}); aggregate it to one, e.g. with sum()`;
      }
      return sampleValue(series[0]!.value) ?? 'Prometheus gave a malformed sample';
    }
    case 'matrix':
      return 'non-scalar result: the query returned a range vector (a matrix); drop the [range] selector or wrap it in a function such as rate()';
    default:
      return `non-scalar result: the query returned a ${data.resultType}, not a number`;
  }
}

function sampleValue(sample: unknown): number | undefined {
  if (!Array.isArray(sample) || typeof sample[1] !== 'string') return undefined;
  // Prometheus spells special values "NaN", "+Inf" and "-Inf"; Number() reads "NaN" and not "+Inf".
  const raw = sample[1];
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  const n = Number(raw);
  return raw.trim() === '' ? undefined : n;
}

function labels(metric: Record<string, string> | undefined): string {
  const pairs = Object.entries(metric ?? {}).map(([k, v]) => `${k}="${v}"`);
  return `{${pairs.join(', ')}}`;
}

function snippet(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim().slice(0, 120);
  return one ? ` (${one})` : '';
}
