/**
 * `npm run bench`: strangler's performance figures on this machine, against local stand-ins
 * only (every socket is 127.0.0.1). Prints one Markdown table and writes bench/results.md with
 * the machine and the command.
 *
 *   1. Slack ack latency of the real bot under 50 connections, against a bare Bolt app as floor
 *   2. Route 53 calls and wall time of `/strangle status` over 100 services in one zone
 *   3. Apply overhead: approve click → ChangeResourceRecordSets, INSYNC → "applied" update
 *   4. Drift check over 200 services with 5 slow version endpoints
 *   5. Footprint of `node dist/main.js`: start-up, RSS idle and after 10,000 commands
 *   6. A ramp of 5 steps with a 1 s bake against stand-ins that answer at once, against its bound
 *
 * Knobs (environment): BENCH_DURATION_S (closed-loop ack runs, default 30), BENCH_BURSTS (bursts
 * of 50 commands, default 200), BENCH_CHANGES (default 200), BENCH_FOOTPRINT_REQUESTS (default
 * 10000), BENCH_ONLY (some of ack, budget, apply, drift, footprint, ramp). Defaults take about 6 minutes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { HttpVersionSource, DEFAULT_HTTP_VERSION_TIMEOUT_MS } from '../src/adapters/http-version-source.js';
import type { VersionSource, WeightedPair } from '../src/core/ports.js';
import { silentLogger } from '../src/log.js';
import { Notifier } from '../src/slack/notifier.js';
import { SlackDriftAnnouncer } from '../src/slack/drift-announcer.js';
import { DriftChecker } from '../src/queue/drift-check.js';
import { DriftStore } from '../src/store/drift-store.js';
import { ALICE, baseConfig, BOB, BOT_TOKEN, BotHarness, SIGNING_SECRET, TEST_TUNING_ENV, ZONE } from '../test/support/bot-harness.js';
import { VersionEndpoints } from '../test/support/version-endpoints.js';
import { startChildBot } from '../test/faults/support/child-bot.js';
import { configWith, openRequest, seedServices } from '../test/faults/support/services.js';
import { type LoadResult, type LoadSpec, percentile, runLoad } from './load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DURATION_S = positive('BENCH_DURATION_S', 30);
const CHANGES = positive('BENCH_CHANGES', 200);
const FOOTPRINT_REQUESTS = positive('BENCH_FOOTPRINT_REQUESTS', 10_000);
const BURSTS = positive('BENCH_BURSTS', 200);
const CONNECTIONS = 50;

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

interface Row {
  readonly bench: string;
  readonly metric: string;
  readonly value: string;
  readonly note?: string;
}

const rows: Row[] = [];
const row = (bench: string, metric: string, value: string, note = '') => rows.push({ bench, metric, value, note });
const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : 'n/a');
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

// ---- 1. Slack ack latency ----------------------------------------------------------------------

/** Runs the load generator in its own process, so it does not share the measured event loop. */
function loadInChild(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./load.ts', import.meta.url))], {
      cwd: ROOT,
      env: { ...process.env, BENCH_LOAD_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as LoadResult);
      else reject(new Error(`load generator exited with ${code}:\n${err}`));
    });
  });
}

function ackRows(label: string, r: LoadResult, note: string): void {
  row('1 ack latency', `${label}: p50 / p99 / max`, `${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.max)}`, note);
  const answered = r.answered > 0 ? `, ${r.answered} answered via response_url` : '';
  row('1 ack latency', `${label}: throughput`, `${Math.round(r.reqPerS)} req/s`, `${r.ok2xx} × 2xx, ${r.non2xx} non-2xx, ${r.errors} errors${answered}`);
}

interface Process {
  readonly label: string;
  readonly baseUrl: string;
  readonly pid: number;
  readonly startupMs: number;
  stop(): Promise<void>;
}

/**
 * The bot as production runs it: the bundle, as its own process, under the V8 heap settings the
 * Deployment gives it (NODE_OPTIONS in deploy/deployment.yaml, read from there so they cannot drift).
 */
async function spawnBot(h: BotHarness, config: Record<string, unknown>, env: Record<string, string> = {}): Promise<Process> {
  const bot = await startChildBot({
    config,
    redisUrl: h.redis.url,
    slackApiUrl: h.slack.apiUrl,
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    env: { ...TEST_TUNING_ENV, AWS_ENDPOINT_URL_ROUTE_53: h.r53.url, LOG_LEVEL: 'info', ...env },
    entry: { command: process.execPath, args: [...deployedNodeOptions(), 'dist/main.js'] },
  });
  return { label: 'bot', baseUrl: bot.baseUrl, pid: bot.pid, startupMs: bot.startupMs, stop: () => bot.stop() };
}

/** The floor: bench/bare-bolt.mjs, a Bolt app that only acks, spawned the same way with node's defaults. */
async function spawnFloor(h: BotHarness): Promise<Process> {
  const bare = await startChildBot({
    config: {},
    redisUrl: h.redis.url,
    slackApiUrl: h.slack.apiUrl,
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    entry: { command: process.execPath, args: ['bench/bare-bolt.mjs'] },
  });
  return { label: 'bare Bolt', baseUrl: bare.baseUrl, pid: bare.pid, startupMs: bare.startupMs, stop: () => bare.stop() };
}

export function deployedNodeOptions(): string[] {
  const manifest = readFileSync(new URL('../deploy/deployment.yaml', import.meta.url), 'utf8');
  const m = /- name: NODE_OPTIONS\s+value: "([^"]*)"/.exec(manifest);
  if (!m) throw new Error('deploy/deployment.yaml sets no NODE_OPTIONS: the bench runs the bot under the heap settings the Deployment gives it');
  return m[1]!.split(/\s+/).filter(Boolean);
}

const ratio = (x: number, floor: number) => (Number.isFinite(x) && floor > 0 ? `×${(x / floor).toFixed(2)}` : 'n/a');

/** The bot's own count of commands it answered "busy" (prom-client text format). */
async function busyCount(baseUrl: string): Promise<number> {
  const body = await (await fetch(`${baseUrl}/metrics`)).text();
  return Number(/^strangler_commands_busy_total (\d+)/m.exec(body)?.[1] ?? Number.NaN);
}

async function benchAck(h: BotHarness): Promise<void> {
  const closed = (url: string, texts: string[]): LoadSpec => ({
    url,
    signingSecret: SIGNING_SECRET,
    texts,
    connections: CONNECTIONS,
    durationS: DURATION_S,
    warmupS: Math.min(3, DURATION_S),
  });
  const bursts = (url: string, texts: string[], answersPerCommand: number): LoadSpec => ({
    url,
    signingSecret: SIGNING_SECRET,
    texts,
    connections: CONNECTIONS,
    bursts: BURSTS,
    answersPerCommand,
    drainMs: 30_000,
  });
  log(`ack: floor, bare Bolt app that only acks: ${BURSTS} bursts of ${CONNECTIONS}, then ${CONNECTIONS} connections for ${DURATION_S} s`);
  const bare = await spawnFloor(h);
  let floorBurst: LoadResult;
  let floor: LoadResult;
  try {
    floorBurst = await loadInChild(bursts(bare.baseUrl, ['help'], 0));
    floor = await loadInChild({ ...closed(bare.baseUrl, ['help']), drainMs: 0 });
  } finally {
    await bare.stop();
  }
  const bot = await spawnBot(h, baseConfig());
  let statusBurst: LoadResult;
  let help: LoadResult;
  let bad: LoadResult;
  let status: LoadResult;
  let busy: number;
  try {
    log(`ack: bot, /strangle status, ${BURSTS} bursts of ${CONNECTIONS}`);
    statusBurst = await loadInChild(bursts(bot.baseUrl, ['status'], 1));
    log(`ack: bot, /strangle help, ${CONNECTIONS} connections, ${DURATION_S} s`);
    help = await loadInChild({ ...closed(bot.baseUrl, ['help']), drainMs: 0 });
    log('ack: bot, /strangle frobnicate (bad input, answered in the ack)');
    bad = await loadInChild({ ...closed(bot.baseUrl, ['frobnicate']), drainMs: 0 });
    log('ack: bot, /strangle status, closed loop');
    const busyBefore = await busyCount(bot.baseUrl);
    status = await loadInChild({ ...closed(bot.baseUrl, ['status']), drainMs: 30_000 });
    busy = (await busyCount(bot.baseUrl)) - busyBefore;
  } finally {
    await bot.stop();
  }

  const latency = (label: string, r: LoadResult, note: string) => row('1 ack latency', `${label}: p50 / p99 / max`, `${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.max)}`, note);
  const versus = (label: string, r: LoadResult, f: LoadResult, note: string, withThroughput = true) =>
    row('1 ack latency', `${label} ÷ floor`, `p50 ${ratio(r.p50, f.p50)}, p99 ${ratio(r.p99, f.p99)}${withThroughput ? `, throughput ${ratio(r.reqPerS, f.reqPerS)}` : ''}`, note);

  latency(`floor: bare Bolt \`ack()\`, bursts of ${CONNECTIONS}`, floorBurst, `${floorBurst.ok2xx} acks in ${BURSTS} bursts; its own process, same Bolt version and Slack stand-in`);
  latency(`bot \`status\`, bursts of ${CONNECTIONS}`, statusBurst, `${statusBurst.ok2xx} acks, ${statusBurst.answered} answered via response_url before the next burst`);
  versus(`bot \`status\`, bursts of ${CONNECTIONS}`, statusBurst, floorBurst, '**target: p99 ≤ ×1.5**', false);
  ackRows(`floor: bare Bolt \`ack()\`, ${CONNECTIONS} connections flat out`, floor, 'closed loop: each connection sends again as soon as it is acked');
  ackRows('bot `help`', help, 'the answer (pure rendering) is in the ack');
  versus('bot `help`', help, floor, 'latency >1 is slower; throughput <1 is fewer req/s');
  ackRows('bot `frobnicate` (bad input)', bad, 'the answer is in the ack');
  versus('bot `frobnicate` (bad input)', bad, floor, 'latency >1 is slower; throughput <1 is fewer req/s');
  ackRows('bot `status`', status, `more than the bot can answer: ${busy} answered "busy, try again" in the ack once ${'STRANGLER_MAX_PENDING_COMMANDS'} (2000) answers were waiting`);
  versus('bot `status`', status, floor, 'overload: acks stay fast, answers are bounded');
}

// ---- 2. Route 53 call budget of /strangle status --------------------------------------------

async function benchStatusBudget(): Promise<void> {
  const services = Array.from({ length: 100 }, (_, i) => ({ name: `svc${String(i).padStart(3, '0')}` }));
  const h = await BotHarness.start({ config: configWith(services) });
  try {
    seedServices(h, services);
    const unrelated = 150;
    for (let i = 0; i < unrelated; i++) {
      h.r53.putRecord(ZONE, { Name: `host-${i}.internal.example.com.`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: `10.0.${i >> 8}.${i & 255}` }] });
    }
    const records = h.r53.records(ZONE).length;
    const pages = Math.ceil(records / 300);
    h.r53.rateLimit(5);
    await new Promise((r) => setTimeout(r, 1100)); // a full bucket, as after a quiet second

    const before = h.r53.countCalls('ListResourceRecordSets');
    const throttledBefore = h.r53.calls.filter((c) => c.status === 400).length;
    const t0 = performance.now();
    const reply = await h.ask(ALICE, 'status', {}, 30_000);
    const wall = performance.now() - t0;
    const calls = h.r53.countCalls('ListResourceRecordSets') - before;
    if (!reply.includes('*svc099*')) throw new Error(`status did not list every service: ${reply.slice(0, 300)}`);
    row('2 Route 53 budget', '`/strangle status`, 100 services: ListResourceRecordSets calls', `${calls}`, `expected ⌈${records} records / 300⌉ = ${pages}`);
    row('2 Route 53 budget', '`/strangle status`, 100 services: wall time', ms(wall), `stand-in limited to 5 req/s; ${h.r53.calls.filter((c) => c.status === 400).length - throttledBefore} throttled`);

    // Ten people asking at once: ten times the listings against a budget of 5/s.
    const burstBefore = h.r53.countCalls('ListResourceRecordSets');
    const throttled0 = h.r53.calls.filter((c) => c.status === 400).length;
    await new Promise((r) => setTimeout(r, 1100));
    const t1 = performance.now();
    // "At once" made exact: the first listing is held until all ten are acked, as it would be by
    // a Route 53 that takes longer to answer than ten people take to type.
    const held = h.r53.holdNext('ListResourceRecordSets');
    const cmds = await Promise.all(Array.from({ length: 10 }, () => h.command(ALICE, 'status')));
    await held.reached;
    held.release();
    const replies = await Promise.all(cmds.map((c) => h.reply(c, 60_000)));
    const burstWall = performance.now() - t1;
    const complete = replies.filter((r) => r.includes('*svc099*') && !r.includes('kept throttling')).length;
    row('2 Route 53 budget', '10 concurrent `status`: ListResourceRecordSets calls', `${h.r53.countCalls('ListResourceRecordSets') - burstBefore}`, `expected ⌈${records} / 300⌉ = ${pages}: they share one listing (single-flight); ${h.r53.calls.filter((c) => c.status === 400).length - throttled0} throttled`);
    row('2 Route 53 budget', '10 concurrent `status`: wall time', ms(burstWall), `${complete}/10 complete answers`);
  } finally {
    await h.close();
  }
}

// ---- 3. Apply overhead -----------------------------------------------------------------------

async function benchApply(): Promise<void> {
  const h = await BotHarness.start({ env: { STRANGLER_ROUTE53_POLL_MS: '10' } });
  try {
    h.r53.pendingPolls = 0;
    const toChange: number[] = [];
    const toApplied: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      // `web` has maxStep 100 and starts at 0%: 30, 70, 30, … is always an allowed step.
      const to = i % 2 === 0 ? 30 : 70;
      const id = await openRequest(h, ALICE, `web ${to}`);
      const m = await h.waitForApproval(id, 'waits for approval');
      const clickAt = Date.now();
      await h.click(BOB, m, 'approve');
      await h.waitForApproval(id, 'Applied and verified', 10_000);

      const change = h.r53.calls.find((c) => c.operation === 'ChangeResourceRecordSets' && c.at >= clickAt && c.status === 200);
      const batch = h.r53.appliedBatches.at(-1);
      // pendingPolls = 0: the first GetChange of the change is the one that answered INSYNC.
      const insync = h.r53.calls.find((c) => c.operation === 'GetChange' && c.changeId === batch?.id && c.status === 200);
      const update = h.slack.calls.find((c) => c.method === 'chat.update' && c.args.ts === m.ts && / applied: /.test(String(c.args.text)));
      if (!change || !insync || !update) throw new Error(`request #${id}: missing ${!change ? 'ChangeResourceRecordSets' : !insync ? 'GetChange' : 'chat.update'}`);
      toChange.push(change.at - clickAt);
      toApplied.push(update.at - insync.at);
      total.push(update.at - clickAt);
    }
    for (const a of [toChange, toApplied, total]) a.sort((x, y) => x - y);
    const pq = (a: number[]) => `${ms(percentile(a, 0.5))} / ${ms(percentile(a, 0.99))}`;
    row('3 apply overhead', `(a) approve click → ChangeResourceRecordSets, p50 / p99`, pq(toChange), `${CHANGES} changes; ms resolution (stand-in clocks)`);
    row('3 apply overhead', `(b) INSYNC GetChange → "applied" chat.update, p50 / p99`, pq(toApplied), 'pendingPolls 0, STRANGLER_ROUTE53_POLL_MS 10');
    row('3 apply overhead', 'click → "applied" update, p50 / p99', pq(total), 'includes the Route 53 round trips in between');
  } finally {
    await h.close();
  }
}

// ---- 6. Ramp ---------------------------------------------------------------------------------

/** A Prometheus stand-in answering every instant query at once with a healthy 0. */
async function instantPrometheus(): Promise<{ url: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [Date.now() / 1000, '0'] } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * The issue's bound: a ramp of 5 steps with a 1 s bake, against stand-ins that answer at once,
 * finishes within 5 × (1 s + the Route 53 stand-in's sync time) + 1 s. The sync time is measured
 * in the same run, per step, from its ChangeResourceRecordSets to the GetChange that said INSYNC.
 */
async function benchRamp(): Promise<void> {
  const prometheus = await instantPrometheus();
  const base = baseConfig() as { services: Record<string, Record<string, unknown>> };
  const ramp = { steps: [20, 40, 60, 80, 100], bake: '1s', gates: [{ name: 'errors', prometheus: { url: prometheus.url, query: 'errors' }, max: 0.01 }] };
  const config = { ...base, services: { ...base.services, web: { ...base.services['web'], ramp } } };
  const h = await BotHarness.start({ config, env: { STRANGLER_ROUTE53_POLL_MS: '10', STRANGLER_RAMP_SAMPLE_MS: '100' } });
  try {
    h.r53.pendingPolls = 0;
    const id = await openRequest(h, ALICE, 'web ramp');
    const m = await h.waitForApproval(id, 'waits for approval');
    const clickAt = Date.now();
    await h.click(BOB, m, 'approve');
    await h.waitForApproval(id, 'Ramp complete', 60_000);
    const done = h.slack.calls.find((c) => c.method === 'chat.update' && c.args.ts === m.ts && /Ramp complete/.test(String(c.args.text)));
    if (!done) throw new Error('no "Ramp complete" update');
    const took = done.at - clickAt;
    const submits = h.r53.calls.filter((c) => c.operation === 'ChangeResourceRecordSets' && c.status === 200);
    const syncs = h.r53.appliedBatches.map((b, i) => {
      const insync = h.r53.calls.find((c) => c.operation === 'GetChange' && c.changeId === b.id && c.status === 200);
      if (!submits[i] || !insync) throw new Error(`batch ${b.id}: missing its ChangeResourceRecordSets or GetChange`);
      return insync.at - submits[i]!.at;
    });
    if (syncs.length !== 5) throw new Error(`expected 5 batches, got ${syncs.length}`);
    const sync = syncs.reduce((a, b) => a + b, 0) / syncs.length;
    const floor = 5 * (1000 + sync) + 1000;
    row('6 ramp', '5 steps, 1 s bake: approve click → "Ramp complete"', ms(took), `bound 5 × (1 s + sync ${ms(sync)}) + 1 s = ${ms(floor)}; ratio ${(took / floor).toFixed(2)}`);
  } finally {
    await h.close();
    await prometheus.close();
  }
}

// ---- 4. Drift check scale ------------------------------------------------------------------

async function benchDrift(): Promise<void> {
  const endpoints = await VersionEndpoints.start();
  const redis = new Redis({ lazyConnect: true }); // readAll never touches the store
  try {
    let inFlight = 0;
    let peak = 0;
    const counted = (inner: VersionSource): VersionSource => ({
      description: inner.description,
      async read() {
        peak = Math.max(peak, ++inFlight);
        try {
          return await inner.read();
        } finally {
          inFlight--;
        }
      },
    });
    const slow = new Set([0, 40, 80, 120, 160].map((i) => `svc${i}`)); // spread out, not all at the end
    const services = Array.from({ length: 200 }, (_, i) => {
      const name = `svc${i}`;
      const delayMs = slow.has(name) ? 5000 : 50;
      return {
        service: name,
        kubernetes: counted(new HttpVersionSource({ url: endpoints.set(`/k8s/${name}`, 'abc123', { delayMs }), field: 'commit' })),
        ec2: counted(new HttpVersionSource({ url: endpoints.set(`/ec2/${name}`, 'abc123', { delayMs: 50 }), field: 'commit' })),
        pair: { hostedZoneId: ZONE, recordName: `${name}.example.com`, recordType: 'A' as const, kubernetesSetIdentifier: 'primary', ec2SetIdentifier: 'secondary' },
      };
    });
    const checker = new DriftChecker({
      services,
      store: new DriftStore(redis),
      pairs: {} as WeightedPair,
      announcer: new SlackDriftAnnouncer(new Notifier(new WebClient('xoxb-unused'), silentLogger)),
      alertChannel: undefined,
      settings: { graceMs: 600_000, remindEveryMs: 3_600_000 },
      clock: { now: () => Date.now() },
      log: silentLogger,
    });
    const t0 = performance.now();
    const readings = await checker.readAll();
    const wall = performance.now() - t0;
    const failed = readings.flatMap((r) => [r.kubernetes, r.ec2]).filter((x) => 'error' in x).length;
    row('4 drift check', '200 services (400 reads): wall time', ms(wall), `5 endpoints answer in 5 s against the ${DEFAULT_HTTP_VERSION_TIMEOUT_MS / 1000} s timeout (${failed} timed out), the rest in 50 ms`);
    row('4 drift check', 'peak reads in flight', `${peak}`, 'DriftChecker default concurrency 32');
  } finally {
    redis.disconnect();
    await endpoints.close();
  }
}

// ---- 5. Footprint --------------------------------------------------------------------------

function vm(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** From the bot's own /metrics (prom-client default metrics). */
async function heapUsedMiB(baseUrl: string): Promise<string> {
  try {
    const body = await (await fetch(`${baseUrl}/metrics`)).text();
    const m = /^\w*nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(body);
    return m ? (Number(m[1]) / 2 ** 20).toFixed(0) : '?';
  } catch {
    return '?';
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
const STARTS = 5;

/** Median start-up and idle RSS over STARTS spawns: one spawn on a shared machine is noise. */
async function startups(spawnIt: () => Promise<Process>): Promise<{ startupMs: number; idleMiB: number; range: string }> {
  const startupMs: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const p = await spawnIt();
    try {
      startupMs.push(p.startupMs);
      await new Promise((r) => setTimeout(r, 2000));
      idle.push(vm(p.pid, 'VmRSS'));
    } finally {
      await p.stop();
    }
  }
  return { startupMs: median(startupMs), idleMiB: median(idle), range: `start-ups ${Math.min(...startupMs)}–${Math.max(...startupMs)} ms` };
}

/** cron jobs and Deployment version sources: the configuration that loads the Kubernetes client. */
function kubernetesConfig(versions: VersionEndpoints): Record<string, unknown> {
  const base = baseConfig() as { slack: Record<string, unknown>; services: Record<string, Record<string, unknown>> };
  return {
    ...base,
    slack: { ...base.slack, alertChannel: 'C0ALERTS' },
    memcache: { servers: ['overridden-by-MEMCACHE_SERVERS:11211'] },
    cronjobs: { nightly: { kubernetes: { namespace: 'jobs', name: 'nightly' }, lockKey: 'lock:nightly' } },
    services: {
      ...base.services,
      api: { ...base.services.api, version: { kubernetes: { deployment: { namespace: 'apps', name: 'api' } }, ec2: { url: versions.set('/ec2/api', 'abc123'), field: 'commit' } } },
    },
  };
}

async function benchFootprint(): Promise<void> {
  const h = await BotHarness.start({ noBot: true, kubernetes: true });
  const versions = await VersionEndpoints.start();
  try {
    h.kube!.putCronJob({ namespace: 'jobs', name: 'nightly', schedule: '0 3 * * *', suspend: true });
    h.kube!.putDeployment({ namespace: 'apps', name: 'api', replicas: 2, containers: [{ name: 'api', image: 'registry.example.com/api:abc123' }] });
    const heap = deployedNodeOptions().join(' ');
    log(`footprint: ${STARTS} starts each of bare Bolt, the bot with weights only, the bot with cron jobs and Deployment sources`);
    const floor = await startups(() => spawnFloor(h));
    const weights = await startups(() => spawnBot(h, baseConfig()));
    const kube = await startups(() => spawnBot(h, kubernetesConfig(versions)));
    row('5 footprint', 'floor: bare Bolt, spawn → /readyz 200 / RSS idle', `${ms(floor.startupMs)} / ${floor.idleMiB.toFixed(1)} MiB`, `\`node bench/bare-bolt.mjs\`; median of ${STARTS} starts (${floor.range}), RSS 2 s after ready`);
    row('5 footprint', 'bot, weights only: spawn → /readyz 200 / RSS idle', `${ms(weights.startupMs)} / ${weights.idleMiB.toFixed(1)} MiB`, `\`node ${heap} dist/main.js\`, web + worker; median of ${STARTS} (${weights.range})`);
    row('5 footprint', 'bot, weights only ÷ floor', `start-up ${ratio(weights.startupMs, floor.startupMs)}, RSS idle ${ratio(weights.idleMiB, floor.idleMiB)}`, 'targets: start-up ≤ ×1.5, RSS ≤ ×1.3');
    row('5 footprint', 'bot, cron jobs + Deployment sources: spawn → /readyz 200 / RSS idle', `${ms(kube.startupMs)} / ${kube.idleMiB.toFixed(1)} MiB`, `loads the Kubernetes client; median of ${STARTS} (${kube.range})`);
    row('5 footprint', 'bot, cron jobs + Deployment sources ÷ floor', `start-up ${ratio(kube.startupMs, floor.startupMs)}, RSS idle ${ratio(kube.idleMiB, floor.idleMiB)}`, 'target: RSS ≤ ×1.6');

    const bot = await spawnBot(h, baseConfig());
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const idle = vm(bot.pid, 'VmRSS');
      // `status`: the busiest read path (Route 53 listing, Redis, a response_url answer per command).
      const load = { url: bot.baseUrl, signingSecret: SIGNING_SECRET, texts: ['status'], connections: CONNECTIONS, bursts: Math.ceil(FOOTPRINT_REQUESTS / CONNECTIONS), answersPerCommand: 1, drainMs: 30_000 };
      const r = await runLoad(load);
      const after = vm(bot.pid, 'VmRSS');
      const peak = vm(bot.pid, 'VmHWM');
      const heapUsed = await heapUsedMiB(bot.baseUrl);
      // More rounds tell a heap that has grown to its working size (flat, give or take a GC) from
      // one that grows with every request (a leak, which climbs round after round).
      const rounds: string[] = [];
      for (let i = 2; i <= 4; i++) {
        await runLoad(load);
        rounds.push(`${vm(bot.pid, 'VmRSS').toFixed(0)} (heap ${await heapUsedMiB(bot.baseUrl)})`);
      }
      const alive = await fetch(`${bot.baseUrl}/healthz`).then((res) => res.status === 200, () => false);
      row('5 footprint', `bot: RSS after ${FOOTPRINT_REQUESTS.toLocaleString('en')} \`status\` ÷ its own idle RSS`, `${ratio(after, idle)} (${after.toFixed(1)} / ${idle.toFixed(1)} MiB)`, `target ≤ ×2. V8 heap used ${heapUsed} MiB; peak RSS (VmHWM) ${peak.toFixed(1)} MiB; ${r.ok2xx} × 2xx, ${r.answered} answered; LOG_LEVEL=info`);
      row('5 footprint', `bot: RSS (V8 heap used) after rounds 2, 3, 4 of ${FOOTPRINT_REQUESTS.toLocaleString('en')}`, `${rounds.join(' / ')} MiB`, `leak check: a leak would climb round after round. ${alive ? 'Still alive' : 'DIED'} under ${heap} (the Deployment's limit is 256 MiB)`);
    } finally {
      await bot.stop();
    }
  } finally {
    await versions.close();
    await h.close();
  }
}

// ---- machine and output ----------------------------------------------------------------------

function machine(): string[] {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const redis = (() => {
    try {
      return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
    } catch {
      return '?';
    }
  })();
  const commit = (() => {
    try {
      const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() ? ' (src/ has uncommitted changes)' : '';
      return `${sha}${dirty}`;
    } catch {
      return '?';
    }
  })();
  return [
    `- CPU: ${model}, ${os.cpus().length} cores`,
    `- RAM: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}, redis-server ${redis}, ${os.type()} ${os.release()}`,
    `- Date: ${new Date().toISOString()}`,
    `- Commit: ${commit}`,
    `- Command: \`${[DURATION_S !== 30 ? `BENCH_DURATION_S=${DURATION_S}` : '', CHANGES !== 200 ? `BENCH_CHANGES=${CHANGES}` : '', FOOTPRINT_REQUESTS !== 10_000 ? `BENCH_FOOTPRINT_REQUESTS=${FOOTPRINT_REQUESTS}` : '', 'npm run bench'].filter(Boolean).join(' ')}\``,
  ];
}

function table(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| Benchmark | Metric | Value | Notes |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${esc(r.bench)} | ${esc(r.metric)} | ${esc(r.value)} | ${esc(r.note ?? '')} |`),
  ].join('\n');
}

/** BENCH_ONLY=ack,budget,apply,drift,footprint,ramp runs some; the README's table comes from a full run. */
const ONLY = new Set((process.env.BENCH_ONLY ?? '').split(',').map((x) => x.trim()).filter(Boolean));
const wanted = (name: string) => ONLY.size === 0 || ONLY.has(name);

async function main(): Promise<void> {
  const started = Date.now();
  // The SDK's notice about Node 20 support says nothing about these figures.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  if (wanted('ack') || wanted('footprint')) {
    log('npm run build (the bot is measured as production runs it: the bundle)');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (wanted('ack')) {
    const h = await BotHarness.start({ noBot: true });
    try {
      await benchAck(h);
    } finally {
      await h.close();
    }
  }
  if (wanted('budget')) {
    log('Route 53 budget');
    await benchStatusBudget();
  }
  if (wanted('apply')) {
    log(`apply overhead: ${CHANGES} changes`);
    await benchApply();
  }
  if (wanted('drift')) {
    log('drift check');
    await benchDrift();
  }
  if (wanted('footprint')) {
    log('footprint');
    await benchFootprint();
  }
  if (wanted('ramp')) {
    log('ramp: 5 steps, 1 s bake');
    await benchRamp();
  }
  const out = [
    '# strangler benchmarks',
    '',
    'Everything runs on one machine against local stand-ins (real redis-server; Route 53 and Slack',
    'stand-ins from test/support); load generator, bot and stand-ins share its cores.',
    '',
    ...machine(),
    `- Total run time: ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '',
    table(),
    '',
  ].join('\n');
  writeFileSync(new URL('./results.md', import.meta.url), out);
  process.stdout.write(`${out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
