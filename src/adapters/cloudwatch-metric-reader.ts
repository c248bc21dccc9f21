/**
 * Gate readings from CloudWatch: one GetMetricData call per reading, for the newest datapoint of
 * the gate's metric and statistic. Credentials come from the SDK's standard chain (env, shared
 * files, web identity/IRSA, container and instance roles) and the endpoint from
 * AWS_ENDPOINT_URL_CLOUDWATCH or AWS_ENDPOINT_URL, which the SDK reads by itself for the service
 * id "CloudWatch" (@smithy/core's getEndpointUrlConfig). No datapoints is inconclusive, never 0.
 *
 * A percentile such as p99 goes in MetricStat.Stat as it is: GetMetricData's Stat takes extended
 * statistics too (ExtendedStatistics is only GetMetricStatistics's field).
 */
import { CloudWatchClient, type CloudWatchClientConfig, GetMetricDataCommand, type GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { formatDuration } from '../core/duration.js';
import { violatesBound } from '../core/gate-verdict.js';
import type { CloudWatchQuery, Gate, GateReading } from '../core/gate.js';
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

  async read(gate: Gate, signal: AbortSignal): Promise<GateReading> {
    const at = this.now();
    const inconclusive = (reason: string): GateReading => ({ gate: gate.name, at, kind: 'inconclusive', reason });
    if (!gate.cloudwatch) return inconclusive('not a CloudWatch gate');
    const q = gate.cloudwatch;
    let out: GetMetricDataCommandOutput;
    try {
      out = await this.fetch(q, at, signal);
    } catch (err) {
      return inconclusive(describeFailure(err));
    }
    const result = out.MetricDataResults?.find((r) => r.Id === 'gate');
    const values = result?.Values ?? [];
    const times = result?.Timestamps ?? [];
    if (values.length === 0) {
      const messages = [...(out.Messages ?? []), ...(result?.Messages ?? [])].map((m) => `${m.Code ?? ''} ${m.Value ?? ''}`.trim()).filter(Boolean);
      return inconclusive(
        `no datapoints: ${q.namespace} ${q.metric} (${q.stat}) has none in the last ${formatDuration(lookbackMs(q))}` + (messages.length ? ` (${messages.join('; ')})` : ''),
      );
    }
    // ScanBy TimestampDescending puts the newest first; pick by time anyway, should a stand-in or proxy not.
    let newest = 0;
    for (let i = 1; i < values.length; i++) if ((times[i]?.getTime() ?? 0) > (times[newest]?.getTime() ?? 0)) newest = i;
    const value = values[newest]!;
    if (Number.isNaN(value)) return inconclusive('CloudWatch gave NaN');
    return { gate: gate.name, at, kind: 'value', value, violates: violatesBound(gate, value) };
  }

  async check(gate: Gate, signal: AbortSignal): Promise<string | undefined> {
    if (!gate.cloudwatch) return undefined;
    try {
      await this.fetch(gate.cloudwatch, this.now(), signal);
      return undefined;
    } catch (err) {
      return isServiceRefusal(err) ? `CloudWatch refused the query: ${serviceErrorText(err)}` : undefined;
    }
  }

  private fetch(q: CloudWatchQuery, at: number, signal: AbortSignal): Promise<GetMetricDataCommandOutput> {
    const command = new GetMetricDataCommand({
      StartTime: new Date(at - lookbackMs(q)),
      EndTime: new Date(at),
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
