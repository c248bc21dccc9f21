/**
 * A CloudWatch stand-in serving GetMetricData the way the pinned `@aws-sdk/client-cloudwatch`
 * (3.1164) sends it, so the real SDK runs unmodified against it (AWS_ENDPOINT_URL_CLOUDWATCH or
 * `endpoint`).
 *
 * Wire protocol, read from node_modules (not the older awsQuery form-encoded one CloudWatch used
 * to speak): the client is built with `protocol: AwsJson1_0Protocol` and `protocolSettings:
 * { serviceTarget: 'GraniteServiceVersion20100801', awsQueryCompatible: true }`
 * (client-cloudwatch dist-cjs getRuntimeConfig), so @aws-sdk/core's AwsJsonRpcProtocol sends
 * - `POST /` with `content-type: application/x-amz-json-1.0`,
 * - `x-amz-target: GraniteServiceVersion20100801.GetMetricData`,
 * - `x-amzn-query-mode: true` (the awsQuery-compatibility flag),
 * - a JSON body whose timestamps are epoch seconds (numbers), SigV4-signed for service `monitoring`.
 * Answers are JSON with epoch-second timestamps. Errors are status 4xx/5xx with a JSON body
 * `{"__type": "<namespace>#<Shape>", "message": "…"}` and, because of query compatibility,
 * `x-amzn-query-error: <awsQuery code>;<Sender|Receiver>`, from which the SDK takes the code.
 */
import { text as readText } from 'node:stream/consumers';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { recordApiUse } from './api-usage.js';
import { listenOnLoopback } from './free-port.js';

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';

export interface MetricKey {
  namespace: string;
  metric: string;
  dimensions?: Record<string, string>;
  stat: string;
  periodSeconds?: number;
}

export interface Datapoint {
  at: Date;
  value: number;
}

export interface StandInError {
  /** The awsQuery error code, e.g. InvalidParameterValue, AccessDenied, Throttling. */
  code: string;
  /** The JSON shape name the service puts in __type, e.g. InvalidParameterValueException. */
  shape?: string;
  status?: number;
  message: string;
}

export interface CloudWatchCall {
  operation: string;
  at: number;
  headers: { target: string | undefined; queryMode: string | undefined; contentType: string | undefined };
  /** `<region>/monitoring` from the SigV4 credential scope, when signed. */
  scope: string | undefined;
  body: unknown;
}

interface MetricStatIn {
  Metric?: { Namespace?: string; MetricName?: string; Dimensions?: Array<{ Name?: string; Value?: string }> };
  Period?: number;
  Stat?: string;
}

interface QueryIn {
  Id?: string;
  MetricStat?: MetricStatIn;
  ReturnData?: boolean;
}

function keyOf(k: { namespace: string; metric: string; dimensions: Record<string, string>; stat: string; periodSeconds: number }): string {
  const dims = Object.entries(k.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, v]) => `${n}=${v}`)
    .join(',');
  return `${k.namespace}|${k.metric}|${dims}|${k.stat}|${k.periodSeconds}`;
}

export class CloudWatchStandIn {
  readonly calls: CloudWatchCall[] = [];
  private readonly series = new Map<string, Datapoint[]>();
  private readonly faults: Array<StandInError & { remaining: number }> = [];
  private readonly holds: Array<{ reach: () => void; released: Promise<void> }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<CloudWatchStandIn> {
    let standIn: CloudWatchStandIn | undefined;
    const server = createServer((req, res) => {
      standIn!.handle(req, res).catch(() => res.destroy());
    });
    const port = await listenOnLoopback(server);
    standIn = new CloudWatchStandIn(server, `http://127.0.0.1:${port}`);
    return standIn;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Replaces the datapoints of one metric and statistic (period 60 unless given). */
  putDatapoints(key: MetricKey, points: Datapoint[]): void {
    this.series.set(keyOf({ ...key, dimensions: key.dimensions ?? {}, periodSeconds: key.periodSeconds ?? 60 }), points.map((p) => ({ ...p })));
  }

  /** The next `count` calls fail with `error`. */
  failNext(error: StandInError, count = 1): void {
    this.faults.push({ ...error, remaining: count });
  }

  /** Holds the next call unanswered until release(); `reached` resolves once it has arrived. */
  holdNext(): { reached: Promise<void>; release(): void } {
    let reach!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (reach = r));
    const released = new Promise<void>((r) => (release = r));
    this.holds.push({ reach, released });
    return { reached, release };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readText(req);
    const target = header(req, 'x-amz-target');
    const operation = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : 'Unknown';
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      body = undefined;
    }
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+\/[^/]+)\/aws4_request/.exec(header(req, 'authorization') ?? '')?.[1];
    this.calls.push({
      operation,
      at: Date.now(),
      headers: { target, queryMode: header(req, 'x-amzn-query-mode'), contentType: header(req, 'content-type') },
      scope,
      body,
    });
    if (operation !== 'Unknown') recordApiUse(`cloudwatch ${operation}`);

    const hold = this.holds.shift();
    if (hold) {
      hold.reach();
      await hold.released;
    }

    if (req.method !== 'POST' || header(req, 'content-type') !== 'application/x-amz-json-1.0') {
      return sendError(res, { code: 'InvalidAction', status: 400, message: 'expected POST with content-type application/x-amz-json-1.0 (AWS JSON 1.0)' });
    }
    if (operation !== 'GetMetricData') {
      return sendError(res, { code: 'InvalidAction', shape: 'UnknownOperationException', status: 400, message: `the stand-in serves GetMetricData only, not ${target ?? '(no x-amz-target)'}` });
    }
    if (body === undefined) return sendError(res, { code: 'SerializationException', status: 400, message: 'the body is not JSON' });
    if (!scope) return sendError(res, { code: 'MissingAuthenticationToken', shape: 'MissingAuthenticationTokenException', status: 403, message: 'Request is missing Authentication Token' });

    const fault = this.faults[0];
    if (fault) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults.shift();
      return sendError(res, fault);
    }
    return this.getMetricData(body as { MetricDataQueries?: QueryIn[]; StartTime?: number; EndTime?: number; ScanBy?: string }, res);
  }

  private getMetricData(input: { MetricDataQueries?: QueryIn[]; StartTime?: number; EndTime?: number; ScanBy?: string }, res: ServerResponse): void {
    if (typeof input.StartTime !== 'number' || typeof input.EndTime !== 'number') {
      return sendError(res, { code: 'InvalidParameterValue', shape: 'InvalidParameterValueException', status: 400, message: 'StartTime and EndTime must be epoch seconds' });
    }
    // CloudWatch rounds a recent StartTime down to the whole minute (its API reference: "Start time
    // less than 15 days ago - Round down to the nearest whole minute"), so a datapoint from a little
    // before StartTime can come back; a reader must not take StartTime as a filter.
    const start = Math.floor((input.StartTime * 1000) / 60_000) * 60_000;
    const end = input.EndTime * 1000;
    const results = (input.MetricDataQueries ?? []).map((q) => {
      const s = q.MetricStat ?? {};
      const key = keyOf({
        namespace: s.Metric?.Namespace ?? '',
        metric: s.Metric?.MetricName ?? '',
        dimensions: Object.fromEntries((s.Metric?.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
        stat: s.Stat ?? '',
        periodSeconds: s.Period ?? 0,
      });
      const points = (this.series.get(key) ?? [])
        .filter((p) => p.at.getTime() >= start && p.at.getTime() < end)
        .sort((a, b) => (input.ScanBy === 'TimestampAscending' ? a.at.getTime() - b.at.getTime() : b.at.getTime() - a.at.getTime()));
      // An unknown metric is not an error in CloudWatch: it is a result with no datapoints.
      return { Id: q.Id, Label: s.Metric?.MetricName, StatusCode: 'Complete', Timestamps: points.map((p) => p.at.getTime() / 1000), Values: points.map((p) => p.value) };
    });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ MetricDataResults: results, Messages: [] }));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendError(res: ServerResponse, error: StandInError): void {
  const status = error.status ?? 400;
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': randomUUID(),
    'x-amzn-query-error': `${error.code};${status >= 500 ? 'Receiver' : 'Sender'}`,
  });
  res.end(JSON.stringify({ __type: `com.amazonaws.cloudwatch#${error.shape ?? error.code}`, message: error.message }));
}

export function startCloudWatchStandIn(): Promise<CloudWatchStandIn> {
  return CloudWatchStandIn.start();
}
