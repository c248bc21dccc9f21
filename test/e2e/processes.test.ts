import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ALICE, baseConfig, BOB, BOT_TOKEN, BotHarness, CAROL, SIGNING_SECRET } from '../support/bot-harness.js';
import { type BotProcess, startBotProcess, waitHttp, writeConfig } from '../support/bot-process.js';
import { makeTestCa, startTlsRedis } from '../support/redis-ha.js';
import { renderedText } from '../support/slack-stand-in.js';
import { SocketModeStandIn } from '../support/socket-mode-stand-in.js';
import { VersionEndpoints } from '../support/version-endpoints.js';

describe('the built bot as processes: replicas, crashes, shutdown, health, metrics, logs', () => {
  let h: BotHarness;
  let configPath: string;
  const running: BotProcess[] = [];

  async function bot(args: string[] = []): Promise<BotProcess> {
    const b = await startBotProcess(h.processEnv(configPath), { args });
    running.push(b);
    return b;
  }

  beforeAll(async () => {
    h = await BotHarness.start({ noBot: true });
    configPath = writeConfig(baseConfig({ services: { api: (baseConfig() as { services: { api: unknown } }).services.api } }));
  });
  afterEach(async () => {
    for (const b of running.splice(0)) {
      b.signal('SIGKILL');
      await b.exited;
    }
    h.r53.pendingPolls = 2;
    h.r53.setWeight('Z0123456789ABC', 'api.example.com', 'A', 'primary', 10);
    h.r53.setWeight('Z0123456789ABC', 'api.example.com', 'A', 'secondary', 90);
    h.r53.appliedBatches.length = 0;
  });
  afterAll(async () => {
    await h?.close();
  });

  async function requestAndGetMessage(via: BotProcess, text: string) {
    h.endpoint = via.url;
    const reply = await h.ask(ALICE, text, {}, 10_000);
    const id = Number(/Request #(\d+)/.exec(reply)?.[1]);
    expect(id).toBeGreaterThan(0);
    return { id, message: structuredClone(await h.waitForApproval(id, 'waits for approval')) };
  }

  it('two replicas against one Redis apply an approved change exactly once', async () => {
    const [a, b] = await Promise.all([bot(), bot()]);
    const { id, message } = await requestAndGetMessage(a, 'api 30');
    h.endpoint = a.url;
    const clickA = h.click(BOB, message, 'approve');
    h.endpoint = b.url;
    const clickB = h.click(CAROL, message, 'approve');
    await Promise.all([clickA, clickB]);
    await h.waitForApproval(id, 'Applied and verified', 15_000);
    // The losing click is refused, as the last thing its handler does: both clicks are handled.
    await h.slack.waitFor(() => h.slack.ephemerals().find((e) => e.text.includes(`Request #${id} is already`)), 10_000, 'the second approval to be refused');
    expect(h.r53.appliedBatches).toHaveLength(1);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
  });

  it('a replica killed with SIGKILL mid-apply: the other one completes the change', async () => {
    const [a, b] = await Promise.all([bot(), bot()]);
    h.r53.pendingPolls = 1_000_000;
    const { id, message } = await requestAndGetMessage(a, 'api 25');
    h.endpoint = a.url;
    await h.click(BOB, message, 'approve');
    await h.slack.waitFor(() => h.r53.appliedBatches.length === 1, 10_000, 'the batch to reach Route 53');
    // Kill whichever replica took the job: its log has the 'applying' line.
    const applying = [a, b].find((p) => p.output.some((l) => l.includes('"msg":"applying"') && l.includes(`"requestId":${id}`)));
    expect(applying).toBeDefined();
    applying!.signal('SIGKILL');
    await applying!.exited;
    h.r53.pendingPolls = 0;
    await h.waitForApproval(id, 'Applied and verified', 20_000);
    expect(h.r53.appliedBatches).toHaveLength(1);
    const survivor = applying === a ? b : a;
    expect(survivor.output.some((l) => l.includes('"msg":"applying"') && l.includes(`"requestId":${id}`))).toBe(true);
  });

  it('SIGTERM during an apply lets it finish, then the process exits cleanly', async () => {
    const a = await bot();
    h.r53.pendingPolls = 15; // about 0.75 s of PENDING at the test's 50 ms poll
    const { id, message } = await requestAndGetMessage(a, 'api 20');
    await h.click(BOB, message, 'approve');
    await h.slack.waitFor(() => h.r53.appliedBatches.length === 1, 10_000, 'the batch to reach Route 53');
    a.signal('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(renderedText(h.approvalMessage(id)!)).toContain('Applied and verified');
    expect(a.output.some((l) => l.includes('shutting down'))).toBe(true);
  });

  it('SIGTERM while an answer is still being worked out: it is sent, then the process exits cleanly', async () => {
    const a = await bot();
    h.endpoint = a.url;
    const held = h.r53.holdNext('ListResourceRecordSets');
    const cmd = await h.command(ALICE, 'status');
    await held.reached;
    a.signal('SIGTERM');
    // Not a fixed wait: the bot has stopped taking requests once its port refuses connections.
    await h.slack.waitFor(async () => (await fetch(`${a.url}/healthz`).then(() => undefined, () => true)), 10_000, 'the bot to stop listening');
    held.release();
    expect(await h.reply(cmd, 10_000)).toContain('Kubernetes 10% · EC2 90%');
    expect(await a.exited).toBe(0);
  });

  it('/readyz goes 503 while Redis is down and 200 when it is back; /healthz stays 200', async () => {
    const a = await bot();
    await h.redis.stop();
    try {
      const body = await waitHttp(`${a.url}/readyz`, 503, 10_000);
      expect(body).toContain('Redis is unreachable');
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    } finally {
      await h.redis.start();
    }
    await waitHttp(`${a.url}/readyz`, 200, 15_000);
  });

  it('split roles: a web process and a worker process apply a change; the worker serves health and metrics too', async () => {
    const [web, worker] = await Promise.all([bot(['web']), bot(['worker'])]);
    expect(await (await fetch(`${worker.url}/healthz`)).text()).toBe('ok\n');
    const { id, message } = await requestAndGetMessage(web, 'api 35');
    await h.click(BOB, message, 'approve');
    await h.waitForApproval(id, 'Applied and verified', 15_000);
    expect(worker.output.some((l) => l.includes('"msg":"applying"'))).toBe(true);
    expect(web.output.some((l) => l.includes('"msg":"applying"'))).toBe(false);
    expect(await (await fetch(`${worker.url}/metrics`)).text()).toMatch(/strangler_apply_duration_seconds_count 1/);
  });

  it('two worker processes with drift checks run one check per tick between them', async () => {
    const http = await VersionEndpoints.start();
    try {
      const api = (baseConfig() as { services: { api: Record<string, unknown> } }).services.api;
      const driftConfig = writeConfig({
        ...baseConfig(),
        slack: { ...(baseConfig() as { slack: object }).slack, alertChannel: 'C0ALERTS' },
        services: { api: { ...api, version: { kubernetes: { url: http.set('/k8s', 'abc'), field: 'commit' }, ec2: { url: http.set('/ec2', 'abc'), field: 'commit' } } } },
        drift: { intervalSeconds: 5, graceSeconds: 600, remindEveryMinutes: 240 },
      });
      const startedAt = Date.now();
      const workers = await Promise.all([0, 1].map(() => startBotProcess(h.processEnv(driftConfig), { args: ['worker'] })));
      running.push(...workers);
      // Each check reads the Kubernetes source once; two checks per tick would double the reads.
      const k8sReads = () => http.hits.filter((x) => x.path === '/k8s').map((x) => x.at);
      // Three ticks take two intervals; the deadline leaves room for a busy machine.
      const reads = await h.slack.waitFor(() => k8sReads().length >= 3 && k8sReads(), 30_000, 'three drift checks');
      // No check runs before its tick comes: n checks need at least n - 1 whole intervals.
      expect(reads.length).toBeLessThanOrEqual(Math.floor((Date.now() - startedAt) / 5000) + 1);
      const gaps = reads.slice(1).map((t, i) => t - reads[i]!);
      expect(Math.min(...gaps)).toBeGreaterThan(4000);
    } finally {
      await http.close();
    }
  }, 40_000);

  it('/metrics exposes requests, waits, durations, API calls, queue depth and the share after a change', async () => {
    const a = await bot();
    const { id, message } = await requestAndGetMessage(a, 'api 30');
    await h.click(BOB, message, 'approve');
    await h.waitForApproval(id, 'Applied and verified', 15_000);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/strangler_requests_total\{kind="weight",status="applied"\} 1/);
    expect(metrics).toMatch(/strangler_approval_wait_seconds_count 1/);
    expect(metrics).toMatch(/strangler_apply_duration_seconds_count 1/);
    expect(metrics).toMatch(/strangler_api_calls_total\{api="route53",operation="ChangeResourceRecordSets",outcome="ok"\} 1/);
    expect(metrics).toMatch(/strangler_api_calls_total\{api="route53",operation="GetChange",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/strangler_kubernetes_share_percent\{service="api"\} 30/);
    expect(metrics).toMatch(/strangler_queue_depth \d+/);
  });

  it('logs are JSON lines, one per request transition with id, service and actor, and never carry secrets', async () => {
    const a = await bot();
    const { id, message } = await requestAndGetMessage(a, 'api 15');
    await h.click(BOB, message, 'approve');
    await h.waitForApproval(id, 'Applied and verified', 15_000);
    // The log line of the last transition reaches the pipe on its own schedule: wait for it.
    const transitionsOf = () => a.output.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'request.transition' && l.requestId === id);
    const transitions = await h.slack.waitFor(() => transitionsOf().some((t) => t.status === 'applied') && transitionsOf(), 5000, 'the "applied" transition in the log');
    expect(transitions.map((t) => t.status)).toEqual(['requested', 'approved', 'applying', 'applied']);
    expect(transitions[0]).toMatchObject({ target: 'api', actor: ALICE });
    expect(transitions[1]).toMatchObject({ target: 'api', actor: BOB });
    const all = a.output.join('\n');
    for (const secret of [BOT_TOKEN, SIGNING_SECRET, 'test-secret-access-key']) expect(all).not.toContain(secret);
  });

  it('refuses to start with a clear message: invalid config, unreachable Redis or Sentinel, an untrusted TLS certificate, unknown role, a bad or refused app token, a port in use', async () => {
    const badConfig = writeConfig({ slack: { approvers: ['U0BOB'] }, services: { api: { route53: { recordName: 'api.example.com', kubernetesSetIdentifier: 'a', ec2SetIdentifier: 'b' } } } });
    const bad = await startBotProcess({ ...h.processEnv(badConfig) }, { waitReady: false });
    expect(await bad.exited).toBe(1);
    expect(bad.output.join('\n')).toContain('services.api.route53.hostedZoneId: required');
    expect(bad.output.join('\n')).not.toMatch(/\n\s+at /);

    const noRedis = await startBotProcess({ ...h.processEnv(configPath), REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }, { waitReady: false });
    expect(await noRedis.exited).toBe(1);
    expect(noRedis.output.join('\n')).toMatch(/Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1.*Start Redis or set REDIS_URL/);
    expect(noRedis.output.join('\n')).not.toContain('hunter2');

    const role = await startBotProcess(h.processEnv(configPath), { args: ['webworker'], waitReady: false });
    expect(await role.exited).toBe(1);
    expect(role.output.join('\n')).toContain('unknown role "webworker": use web, worker or all');

    const { REDIS_URL: _url, ...withoutUrl } = h.processEnv(configPath);
    const noSentinel = await startBotProcess({ ...withoutUrl, REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_NAME: 'strangler-master' }, { waitReady: false });
    expect(await noSentinel.exited).toBe(1);
    expect(noSentinel.output.join('\n')).toMatch(/strangler cannot start: Cannot reach Redis at Sentinel master "strangler-master" \(sentinels 127\.0\.0\.1:1\): .*Check REDIS_SENTINELS and REDIS_SENTINEL_NAME/);
    expect(noSentinel.output.join('\n')).not.toMatch(/\n\s+at /);

    const ca = makeTestCa();
    const tlsRedis = await startTlsRedis(ca);
    try {
      const untrusted = await startBotProcess({ ...withoutUrl, REDIS_URL: tlsRedis.tlsUrl }, { waitReady: false });
      expect(await untrusted.exited).toBe(1);
      expect(untrusted.output.join('\n')).toMatch(/strangler cannot start: Cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+\/?: .*The TLS handshake failed: set REDIS_CA_FILE to the CA that signed the server's certificate\./);
      expect(untrusted.output.join('\n')).not.toMatch(/\n\s+at /);
    } finally {
      await tlsRedis.stop();
    }

    const notAppToken = await startBotProcess({ ...h.processEnv(configPath), SLACK_APP_TOKEN: BOT_TOKEN }, { waitReady: false });
    expect(await notAppToken.exited).toBe(1);
    expect(notAppToken.output.join('\n')).toContain('strangler cannot start: SLACK_APP_TOKEN must be an app-level token (xapp-…');
    expect(notAppToken.output.join('\n')).not.toContain(BOT_TOKEN);

    h.slack.appToken = 'xapp-1-the-one-slack-knows';
    try {
      const refused = await startBotProcess({ ...h.processEnv(configPath), SLACK_APP_TOKEN: 'xapp-1-revoked' }, { waitReady: false });
      expect(await refused.exited).toBe(1);
      expect(refused.output.join('\n')).toContain('strangler cannot start: Slack refused SLACK_APP_TOKEN for Socket Mode (invalid_auth). Create an app-level token with connections:write');
      expect(refused.output.join('\n')).not.toMatch(/\n\s+at /);
      expect(refused.output.join('\n')).not.toContain('xapp-1-revoked');
    } finally {
      h.slack.appToken = undefined;
    }

    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as AddressInfo).port;
    try {
      const clash = await startBotProcess({ ...h.processEnv(configPath), PORT: String(taken) }, { waitReady: false });
      expect(await clash.exited).toBe(1);
      expect(clash.output.join('\n')).toContain(`strangler cannot start: port ${taken} is already in use by another process (EADDRINUSE): stop that process or set PORT to a free port`);
      expect(clash.output.join('\n')).not.toMatch(/\n\s+at /);

      // In Socket Mode health and metrics have their own small server, on the same PORT.
      const socket = await SocketModeStandIn.start();
      h.slack.socketMode = socket;
      try {
        const socketClash = await startBotProcess({ ...h.processEnv(configPath), PORT: String(taken), SLACK_APP_TOKEN: 'xapp-1-clash' }, { waitReady: false });
        expect(await socketClash.exited).toBe(1);
        expect(socketClash.output.join('\n')).toContain(`strangler cannot start: port ${taken} is already in use by another process (EADDRINUSE)`);
        expect(socketClash.output.join('\n')).not.toMatch(/\n\s+at /);
      } finally {
        h.slack.socketMode = undefined;
        await socket.close();
      }
    } finally {
      squatter.close();
    }
  });
});

describe('the Kubernetes client is loaded only when something needs it', () => {
  let h: BotHarness;
  const running: BotProcess[] = [];
  beforeAll(async () => {
    h = await BotHarness.start({ noBot: true, kubernetes: true });
    h.kube!.putCronJob({ namespace: 'jobs', name: 'nightly', schedule: '0 3 * * *', suspend: true });
  });
  afterAll(async () => {
    for (const b of running.splice(0)) {
      b.signal('SIGKILL');
      await b.exited;
    }
    await h?.close();
  });

  /** Starts the built bot with `config`, recording every module it resolves; returns their URLs. */
  async function loadedBy(config: Record<string, unknown>): Promise<{ bot: BotProcess; modules: () => string[] }> {
    const record = join(mkdtempSync(join(tmpdir(), 'strangler-imports-')), 'modules.txt');
    const bot = await startBotProcess(
      { ...h.processEnv(writeConfig(config)), KUBECONFIG: process.env.KUBECONFIG!, MEMCACHE_SERVERS: h.memcached!.servers, STRANGLER_RECORD_IMPORTS: record },
      { nodeArgs: ['--import', resolve('test/support/record-imports.mjs')] },
    );
    running.push(bot);
    return { bot, modules: () => readFileSync(record, 'utf8').split('\n').filter(Boolean) };
  }

  it('a bot that only moves weights never loads it, and still answers', async () => {
    const { bot, modules } = await loadedBy(baseConfig());
    h.endpoint = bot.url;
    expect(await h.ask(ALICE, 'status', {}, 10_000)).toContain('Kubernetes 10% · EC2 90%');
    const loaded = modules();
    expect(loaded.some((m) => m.endsWith('/dist/main.js'))).toBe(true);
    expect(loaded.filter((m) => /kubernetes/i.test(m))).toEqual([]);
    // Nor the report's chart (Chart.js, the native canvas): loaded only when a report is made.
    expect(loaded.filter((m) => /share-chart|chart\.js|napi-rs/i.test(m))).toEqual([]);
    // Nor inlined into what it did load (a static import would put the client in main.js).
    const distFiles = loaded.filter((m) => m.startsWith('file:') && m.includes('/dist/')).map((m) => new URL(m).pathname);
    expect(distFiles.length).toBeGreaterThan(0);
    for (const f of distFiles) expect(readFileSync(f, 'utf8')).not.toContain('BatchV1Api');
    // Nor the CloudWatch SDK: it is loaded on the first CloudWatch ramp gate only (metric-readers.ts).
    expect(loaded.filter((m) => /cloudwatch/i.test(m))).toEqual([]);
    for (const f of distFiles) expect(readFileSync(f, 'utf8')).not.toContain('GraniteServiceVersion20100801');
  });

  it('the report loads Chart.js and the native canvas when it is asked for, not before', async () => {
    const { bot, modules } = await loadedBy(baseConfig());
    h.endpoint = bot.url;
    expect(await h.ask(ALICE, 'status', {}, 10_000)).toContain('Kubernetes 10% · EC2 90%');
    expect(modules().filter((m) => /share-chart|napi-rs/i.test(m))).toEqual([]);
    expect(await h.ask(ALICE, 'report', {}, 20_000)).toContain('Posted the progress report');
    expect(modules().filter((m) => /\/dist\/share-chart-[^/]*\.js$/.test(m))).toHaveLength(1);
    expect(modules().some((m) => m.includes('/node_modules/@napi-rs/canvas/'))).toBe(true);
  });

  it('a bot with cron jobs loads it, and reads CronJobs through it', async () => {
    const { bot, modules } = await loadedBy({
      ...baseConfig(),
      memcache: { servers: ['overridden-by-MEMCACHE_SERVERS:11211'] },
      cronjobs: { nightly: { kubernetes: { namespace: 'jobs', name: 'nightly' }, lockKey: 'lock:nightly' } },
    });
    h.endpoint = bot.url;
    expect(await h.ask(ALICE, 'cron', {}, 10_000)).toMatch(/nightly.*EC2/s);
    expect(modules().filter((m) => /\/dist\/kubernetes-adapters-[^/]*\.js$/.test(m))).toHaveLength(1);
  });

  it('the bundle runs with no node_modules, as in the image: dist/ and package.json only', async () => {
    const image = mkdtempSync(join(tmpdir(), 'strangler-image-'));
    cpSync(resolve('dist'), join(image, 'dist'), { recursive: true });
    cpSync(resolve('package.json'), join(image, 'package.json'));
    const bot = await startBotProcess(
      {
        ...h.processEnv(writeConfig({ ...baseConfig(), memcache: { servers: ['overridden-by-MEMCACHE_SERVERS:11211'] }, cronjobs: { nightly: { kubernetes: { namespace: 'jobs', name: 'nightly' }, lockKey: 'lock:nightly' } } })),
        KUBECONFIG: process.env.KUBECONFIG!,
        MEMCACHE_SERVERS: h.memcached!.servers,
      },
      { entry: join(image, 'dist/main.js') },
    );
    running.push(bot);
    h.endpoint = bot.url;
    expect(await h.ask(ALICE, 'status', {}, 10_000)).toContain('Kubernetes 10% · EC2 90%');
    expect(await h.ask(ALICE, 'cron', {}, 10_000)).toMatch(/nightly.*EC2/s);
  });
});
