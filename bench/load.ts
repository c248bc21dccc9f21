/**
 * Signed slash-command load against a Bolt endpoint, with autocannon.
 *
 * Used two ways: imported (`runLoad`) when the target is another process, and as a script
 * (`node --import tsx bench/load.ts`, spec in BENCH_LOAD_SPEC, one JSON line on stdout) when the
 * target lives in the benchmark's own process: a load generator sharing the event loop with the
 * server it measures would mostly measure itself.
 *
 * Every request carries its own signature over the current second, as Slack sends them, so a
 * run of any length stays inside Bolt's 5-minute window. The bot answers `help`, `status` and the
 * like through response_url; those posts land on a sink here that counts them, so "acked" and
 * "answered" can both be checked.
 */
import { createHmac } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { FORM_CONTENT_TYPE, slashCommandFields } from '../test/support/slack-requests.js';

export interface LoadSpec {
  /** Base URL of the Bolt app; requests go to `/slack/events`. */
  readonly url: string;
  readonly signingSecret: string;
  /** `/strangle` texts, used round-robin. */
  readonly texts: readonly string[];
  readonly connections: number;
  /** Either a duration or a number of requests. */
  readonly durationS?: number;
  readonly amount?: number;
  /** Unmeasured run first, so JIT and connection set-up stay out of the figures. */
  readonly warmupS?: number;
  /** Wait this long after the run for response_url posts still under way. */
  readonly drainMs?: number;
  /**
   * Bursts instead of a closed loop: `connections` commands sent at the same instant, `bursts`
   * times; the next burst leaves once every answer of this one has come back through
   * response_url (or `drainMs` passed), then `gapMs` later. This is the shape of an incident, when
   * everyone types `status` at once, and the ack of each command in it is what is measured.
   */
  readonly bursts?: number;
  readonly gapMs?: number;
  /** Answers expected per command (1 for `status`, 0 when the answer is in the ack). */
  readonly answersPerCommand?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly durationS: number;
  readonly reqPerS: number;
  /** Milliseconds, from autocannon's per-response times (sub-millisecond, unlike its histogram). */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /**
   * response_url posts for the measured run, including answers to requests still in flight when
   * the load stopped (autocannon drops those, the bot does not), so it may exceed ok2xx slightly.
   */
  readonly answered: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

class ResponseSink {
  /** Posts to the measured run's URLs. */
  answered = 0;
  warmupAnswered = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.startsWith('/response/run/')) this.answered += 1;
        else if (req.url?.startsWith('/response/warmup/')) this.warmupAnswered += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/response`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function signer(secret: string, bodies: readonly string[]) {
  let i = 0;
  return (req: autocannon.Request): autocannon.Request => {
    const body = bodies[i++ % bodies.length]!;
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
    return {
      ...req,
      method: 'POST',
      path: '/slack/events',
      body,
      headers: { 'content-type': FORM_CONTENT_TYPE, 'x-slack-signature': sig, 'x-slack-request-timestamp': ts },
    };
  };
}

function fire(spec: LoadSpec, bodies: readonly string[], opts: { durationS?: number; amount?: number }, times?: number[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
        timeout: 10,
        requests: [{ setupRequest: signer(spec.signingSecret, bodies) }],
      },
      (err: unknown, result: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
    if (times) instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
}

function post(agent: Agent, url: URL, secret: string, body: string): Promise<number> {
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path: '/slack/events', headers: { 'content-type': FORM_CONTENT_TYPE, 'x-slack-signature': sig, 'x-slack-request-timestamp': ts, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function runBursts(spec: LoadSpec, sink: ResponseSink): Promise<LoadResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const bodies = (phase: 'warmup' | 'run', burst: number) =>
    Array.from({ length: spec.connections }, (_, i) =>
      new URLSearchParams(
        slashCommandFields({ text: spec.texts[i % spec.texts.length]!, userId: `U0BENCH${i}`, channelId: 'C0BENCH', responseUrl: `${sink.url}/${phase}/${burst}/${i}`, triggerId: `bench.${burst}.${i}` }),
      ).toString(),
    );
  const perCommand = spec.answersPerCommand ?? 0;
  const times: number[] = [];
  let errors = 0;
  let started = 0;
  const oneBurst = async (phase: 'warmup' | 'run', b: number) => {
    const expected = (phase === 'run' ? sink.answered : sink.warmupAnswered) + spec.connections * perCommand;
    const results = await Promise.allSettled(bodies(phase, b).map((body) => post(agent, url, spec.signingSecret, body)));
    for (const r of results) {
      if (r.status === 'fulfilled') {
        if (phase === 'run') times.push(r.value);
      } else errors += 1;
    }
    const until = Date.now() + (spec.drainMs ?? 10_000);
    while ((phase === 'run' ? sink.answered : sink.warmupAnswered) < expected && Date.now() < until) await new Promise((res) => setTimeout(res, 2));
    await new Promise((res) => setTimeout(res, spec.gapMs ?? 20));
  };
  // Unmeasured bursts first, so JIT compilation of the code paths is not in the figures.
  for (let b = 0; b < 20; b++) await oneBurst('warmup', b);
  started = performance.now();
  const bursts = spec.bursts ?? 100;
  for (let b = 0; b < bursts; b++) await oneBurst('run', b);
  const durationS = (performance.now() - started) / 1000;
  agent.destroy();
  times.sort((a, b) => a - b);
  return {
    requests: bursts * spec.connections,
    ok2xx: times.length,
    non2xx: 0,
    errors,
    timeouts: 0,
    durationS,
    reqPerS: (bursts * spec.connections) / durationS,
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    max: times.at(-1) ?? Number.NaN,
    answered: sink.answered,
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const sink = new ResponseSink();
  await sink.start();
  try {
    if (spec.bursts !== undefined) return await runBursts(spec, sink);
    // Warm-up and measured run answer to different URLs, so late warm-up answers are not counted.
    const bodiesFor = (phase: 'warmup' | 'run') =>
      spec.texts.map((text, i) =>
        new URLSearchParams(
          slashCommandFields({ text, userId: 'U0BENCH', channelId: 'C0BENCH', responseUrl: `${sink.url}/${phase}/${i}`, triggerId: `bench.${i}` }),
        ).toString(),
      );
    if (spec.warmupS) await fire(spec, bodiesFor('warmup'), { durationS: spec.warmupS });
    const times: number[] = [];
    const r = await fire(spec, bodiesFor('run'), spec.amount !== undefined ? { amount: spec.amount } : { durationS: spec.durationS ?? 10 }, times);
    const expected = r['2xx'];
    const drainUntil = Date.now() + (spec.drainMs ?? 5000);
    while (sink.answered < expected && Date.now() < drainUntil) await new Promise((res) => setTimeout(res, 20));
    times.sort((a, b) => a - b);
    return {
      requests: r.requests.total,
      ok2xx: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      durationS: r.duration,
      reqPerS: r.requests.total / r.duration,
      p50: percentile(times, 0.5),
      p99: percentile(times, 0.99),
      max: times.at(-1) ?? Number.NaN,
      answered: sink.answered,
    };
  } finally {
    await sink.close();
  }
}

// Script mode: the spec comes in the environment, the result goes out as one JSON line.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const raw = process.env.BENCH_LOAD_SPEC;
  if (!raw) {
    process.stderr.write('BENCH_LOAD_SPEC is not set\n');
    process.exit(2);
  }
  runLoad(JSON.parse(raw) as LoadSpec).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`load failed: ${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
