/**
 * Gate readings from CloudWatch: one GetMetricData call per reading, for the newest datapoint of
 * the gate's metric and statistic. Credentials come from the SDK's standard chain (env, shared
 * files, web identity/IRSA, container and instance roles) and the endpoint from
 * AWS_ENDPOINT_URL_CLOUDWATCH or AWS_ENDPOINT_URL, which the SDK reads by itself for the service
 * id "CloudWatch" (@smithy/core's getEndpointUrlConfig). No datapoints is inconclusive, never 0.
 *
 * A percentile such as p99 goes in MetricStat.Stat as it is: GetMetricData's Stat takes extended
 * statistics too (ExtendedStatistics is only GetMetricStatistics's field).
 *
 * With `since` (the step's start), only a datapoint whose period starts at or after it counts: one
 * that began earlier mixes in traffic of the split before the step. CloudWatch rounds StartTime
 * down to the minute, so the datapoints are filtered here too, not only by asking from `since`.
 */
import { CloudWatchClient, type CloudWatchClientConfig, GetMetricDataCommand, type GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { formatDuration } from '../core/duration.js';
import { violatesBound } from '../core/gate-verdict.js';
import type { CloudWatchQuery, Gate, GateReading, ReadOptions } from '../core/gate.js';
import { redactUrlCredentials } from '../core/redact-url.js';
import { connectionProblem } from './connection-problem.js';
import type { MetricSource } from './metric-source.js';

/** How many periods back a reading looks for the newest datapoint: metrics land a minute or two late. */
const LOOKBACK_PERIODS = 5;
const MIN_LOOKBACK_MS = 5 * 60_000;

export interface CloudWatchMetricReaderOptions {
  /** Config for every client (tests set credentials); the region comes from the gate or the chain. */
  clientConfig?: CloudWatchClientConfig;
  now?: () => number;
}

export class CloudWatchMetricReader implements MetricSource {
  /** One client per region: each keeps its own connections and resolved credentials. */
  private readonly clients = new Map<string, CloudWatchClient>();
  private readonly now: () => number;

  constructor(private readonly opts: CloudWatchMetricReaderOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  async read(gate: Gate, signal: AbortSignal, options: ReadOptions = {}): Promise<GateReading> {
    const at = this.now();
    const inconclusive = (reason: string): GateReading => ({ gate: gate.name, at, kind: 'inconclusive', reason });
    if (!gate.cloudwatch) return inconclusive('not a CloudWatch gate');
    const q = gate.cloudwatch;
    const window = readWindow(q, at, options.since);
    let out: GetMetricDataCommandOutput;
    try {
      out = await this.fetch(q, window, signal);
    } catch (err) {
      return inconclusive(describeFailure(err));
    }
    const result = out.MetricDataResults?.find((r) => r.Id === 'gate');
    const values = result?.Values ?? [];
    const times = result?.Timestamps ?? [];
    const what = `${q.namespace} ${q.metric} (${q.stat})`;
    if (values.length === 0) {
      const messages = [...(out.Messages ?? []), ...(result?.Messages ?? [])].map((m) => `${m.Code ?? ''} ${m.Value ?? ''}`.trim()).filter(Boolean);
      const span = window.sinceStep ? 'since the step began' : `in the last ${formatDuration(lookbackMs(q))}`;
      return inconclusive(`no datapoints: ${what} has none ${span}` + (messages.length ? ` (${messages.join('; ')})` : ''));
    }
    // ScanBy TimestampDescending puts the newest first; pick by time anyway, should a stand-in or proxy not.
    let newest = 0;
    for (let i = 1; i < values.length; i++) if ((times[i]?.getTime() ?? 0) > (times[newest]?.getTime() ?? 0)) newest = i;
    const newestAt = times[newest]?.getTime();
    if (options.since !== undefined && (newestAt === undefined || newestAt < options.since)) {
      const before = newestAt === undefined ? '' : `; the newest is from ${formatDuration(options.since - newestAt)} before it`;
      return inconclusive(
        `no datapoint since the step began: ${what} has none for a period starting after the step${before} ` +
          `(CloudWatch publishes a period's datapoint after the period ends: a bake of a few periods leaves room for one)`,
      );
    }
    const value = values[newest]!;
    if (Number.isNaN(value)) return inconclusive('CloudWatch gave NaN');
    return { gate: gate.name, at, kind: 'value', value, violates: violatesBound(gate, value), ...(newestAt !== undefined ? { observedAt: newestAt } : {}) };
  }

  async check(gate: Gate, signal: AbortSignal): Promise<string | undefined> {
    if (!gate.cloudwatch) return undefined;
    try {
      await this.fetch(gate.cloudwatch, readWindow(gate.cloudwatch, this.now(), undefined), signal);
      return undefined;
    } catch (err) {
      return isServiceRefusal(err) ? `CloudWatch refused the query: ${serviceErrorText(err)}` : undefined;
    }
  }

  private fetch(q: CloudWatchQuery, window: ReadWindow, signal: AbortSignal): Promise<GetMetricDataCommandOutput> {
    const command = new GetMetricDataCommand({
      StartTime: new Date(window.start),
      EndTime: new Date(window.end),
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          Id: 'gate',
          ReturnData: true,
          MetricStat: {
            Metric: { Namespace: q.namespace, MetricName: q.metric, Dimensions: Object.entries(q.dimensions).map(([Name, Value]) => ({ Name, Value })) },
            Period: q.periodSeconds,
            Stat: q.stat,
          },
        },
      ],
    });
    return this.client(q.region).send(command, { abortSignal: signal });
  }

  private client(region: string | undefined): CloudWatchClient {
    const key = region ?? '';
    let client = this.clients.get(key);
    if (!client) {
      const base = this.opts.clientConfig ?? {};
      client = new CloudWatchClient({
        ...base,
        ...(region === undefined ? {} : { region }),
        // A read is bounded by the gate timeout (STRANGLER_GATE_READ_TIMEOUT_MS) anyway; one retry
        // of a throttle or a 5xx fits in it, more would only outlive it.
        maxAttempts: base.maxAttempts ?? (process.env['AWS_MAX_ATTEMPTS'] ? undefined : 2),
        requestHandler: base.requestHandler ?? { connectionTimeout: 5_000, socketTimeout: 30_000 },
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

function lookbackMs(q: CloudWatchQuery): number {
  return Math.max(MIN_LOOKBACK_MS, LOOKBACK_PERIODS * q.periodSeconds * 1000);
}

interface ReadWindow {
  readonly start: number;
  readonly end: number;
  /** The window starts at the step rather than the usual lookback. */
  readonly sinceStep: boolean;
}

/** The usual lookback, cut at the step's start when that is later (never empty: CloudWatch refuses StartTime ≥ EndTime). */
function readWindow(q: CloudWatchQuery, at: number, since: number | undefined): ReadWindow {
  const lookback = at - lookbackMs(q);
  if (since === undefined || since <= lookback) return { start: lookback, end: at, sinceStep: false };
  return { start: Math.min(since, at - 1000), end: at, sinceStep: true };
}

interface ServiceErrorLike {
  name?: string;
  message?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

/** CloudWatch answered and said no (a 4xx service error), as opposed to not being reached. */
function isServiceRefusal(err: unknown): boolean {
  const e = err as ServiceErrorLike;
  return typeof e === 'object' && e !== null && e.$fault === 'client' && typeof e.$metadata?.httpStatusCode === 'number';
}

// AWS's own texts carry no secret (at most an account id, a role ARN, an access key id), but an
// endpoint from AWS_ENDPOINT_URL_CLOUDWATCH may hold a user and password, and client errors quote it.
function serviceErrorText(err: unknown): string {
  const e = err as ServiceErrorLike;
  return redactUrlCredentials(`${e.name ?? 'Error'}: ${e.message ?? 'no message'}`);
}

function describeFailure(err: unknown): string {
  const e = err as ServiceErrorLike;
  if (typeof e === 'object' && e !== null && typeof e.$metadata?.httpStatusCode === 'number' && e.$fault !== undefined) {
    return `CloudWatch answered HTTP ${e.$metadata.httpStatusCode}: ${serviceErrorText(err)}`;
  }
  const network = connectionProblem(err);
  if (network) return `cannot reach CloudWatch: ${network}`;
  return `CloudWatch call failed: ${redactUrlCredentials(err instanceof Error ? `${err.name}: ${err.message}` : String(err))}`;
}
