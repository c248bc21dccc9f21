/**
 * Wires strangler together and starts the chosen roles. `web` serves Slack (commands, clicks,
 * health); `worker` applies approved changes. Both are stateless apart from Redis, so any
 * number of either can run against one Redis.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { WebClient } from '@slack/web-api';
import { INTERACTIVE_RETRIES } from './slack/retry-policy.js';
import type { Redis } from 'ioredis';
import { type DeploymentRef, usesDeploymentSources, versionSource } from './adapters/version-sources.js';
import { MemcacheLockReader } from './adapters/memcache-lock-reader.js';
import type { Config } from './config/schema.js';
import type { Tuning } from './config/tuning.js';
import { type ChangeRequest, targetName } from './core/change-request.js';
import type { Clock, CronPlacement, LockReader, WeightedPair } from './core/ports.js';
import type { Weights } from './core/split.js';
import { systemClock } from './core/ports.js';
import type { Logger } from './log.js';
import { applyCronMove } from './queue/apply-cron-move.js';
import { applyWeightChange } from './queue/apply-weight-change.js';
import { runRamp } from './queue/ramp-driver.js';
import { createMetricReaders } from './adapters/metric-readers.js';
import type { MetricReader } from './core/gate.js';
import { DriftChecker, type ServiceVersionSources } from './queue/drift-check.js';
import { witnessCronMove } from './queue/witness-cron-move.js';
import { DriftStore } from './store/drift-store.js';
import { renderDriftTable, statusVersionLine } from './slack/render-drift.js';
import { SlackDriftAnnouncer } from './slack/drift-announcer.js';
import { describeChange } from './slack/render-request.js';
import { slackErrorCode } from './slack/notifier.js';
import { ChangeQueue } from './queue/change-queue.js';
import { ChangeWorker } from './queue/change-worker.js';
import { connectRedis, describeRedis, type RedisSettings, workerRedis } from './redis-connection.js';
import { type CommandExtensions, CommandRouter } from './slack/command-router.js';
import { CronOverview } from './slack/cron-overview.js';
import { cronJobLines, renderCronList } from './slack/render-cron.js';
import { GroupResolver } from './slack/group-members.js';
import { Notifier } from './slack/notifier.js';
import { pairTarget, RequestDesk } from './slack/request-desk.js';
import { createSlackApp } from './slack/slack-app.js';
import { FollowUps } from './slack/follow-ups.js';
import { HomeGather } from './slack/home-gather.js';
import { HomeTab } from './slack/home-tab.js';
import { type ChartRenderer, ProgressReport } from './slack/progress-report.js';
import { slackLogger } from './slack/slack-logger.js';
import { RequestStore } from './store/request-store.js';
import { ZoneLock } from './store/zone-lock.js';
import { CronWitnessStore } from './store/cron-witness-store.js';
import { EnvelopeLedger } from './store/envelope-ledger.js';
import { countPortCalls, countRoute53Calls, watchShares } from './instrument.js';
import { Metrics } from './metrics.js';
import { healthRoutes } from './web/health-routes.js';
import type { RecordClaimsReader } from './core/record-claims.js';
import { OutsideChecker } from './queue/outside-check.js';
import { OutsideStore } from './store/outside-store.js';
import { SlackOutsideAnnouncer } from './slack/outside-announcer.js';
import { registerOutsideButtons } from './slack/outside-buttons.js';
import { outsideStatusLines } from './slack/render-outside.js';
import { serveRoutes } from './web/route-server.js';
import { versionsApiRoutes } from './web/versions-api.js';

export type Role = 'web' | 'worker';

export interface BotSettings {
  readonly config: Config;
  readonly tuning: Tuning;
  readonly roles: readonly Role[];
  /** A redis:// or rediss:// URL, or settings from readRedisSettings (TLS CA, Sentinel). */
  readonly redis: RedisSettings | string;
  readonly slack: { botToken: string; signingSecret: string; appToken?: string | undefined; apiUrl?: string | undefined };
  readonly port: number;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Defaults to the real Route 53 through the SDK's own configuration chain. */
  readonly pairs?: WeightedPair;
  /** STRANGLER_API_TOKENS, already checked (src/web/api-tokens.ts); none: the HTTP API answers 404. */
  readonly apiTokens?: readonly string[];
  /** Who else claims the managed records (external-dns TXT records); defaults to the real Route 53. */
  readonly claims?: RecordClaimsReader;
  /** Where ramp gates are read; defaults to Prometheus and CloudWatch as each gate says. */
  readonly metricReader?: MetricReader;
}

/** The external-dns claims reader on the real Route 53, with the SDK imported only when first used. */
function route53Claims(tuning: Tuning, metrics: Metrics): RecordClaimsReader {
  let reader: Promise<RecordClaimsReader> | undefined;
  const load = () =>
    (reader ??= Promise.all([import('./adapters/route53-weighted-pair.js'), import('./adapters/route53-record-claims.js')]).then(([pair, claims]) => {
      const client = pair.createRoute53Client({ maxAttempts: tuning.route53MaxAttempts });
      countRoute53Calls(client, metrics);
      return new claims.Route53RecordClaims(client);
    }));
  return { claims: async (targets) => (await load()).claims(targets) };
}

interface CronParts {
  readonly cron: CronPlacement;
  readonly locks: LockReader & { close(): void };
}

type KubernetesAdapters = typeof import('./adapters/kubernetes-adapters.js');

/**
 * The Kubernetes client, imported only when cron jobs or Deployment version sources need it
 * (it is most of the bot's memory and start-up time otherwise), with one KubeConfig per process.
 */
async function kubernetes(config: Config): Promise<{ adapters: KubernetesAdapters; kube: () => KubeConfig } | undefined> {
  const versionConfigs = Object.values(config.services).flatMap((s) => (s.version ? [s.version.kubernetes, s.version.ec2] : []));
  if (!cronConfigured(config) && !usesDeploymentSources(versionConfigs)) return undefined;
  const adapters = await import('./adapters/kubernetes-adapters.js');
  let kc: KubeConfig | undefined;
  return { adapters, kube: () => (kc ??= adapters.loadKubeConfig()) };
}

function cronConfigured(config: Config): boolean {
  return Object.keys(config.cronjobs).length > 0 && config.memcache !== undefined;
}

function versionSources(config: Config, k8s: Awaited<ReturnType<typeof kubernetes>>): ServiceVersionSources[] {
  const deployment = (ref: DeploymentRef) => {
    // kubernetes() loads the client whenever a Deployment source is configured.
    if (!k8s) throw new Error('a Deployment version source needs the Kubernetes client, which was not loaded');
    const { namespace, name, container } = ref;
    return new k8s.adapters.DeploymentVersionSource(k8s.kube(), { namespace, name, ...(container ? { container } : {}) });
  };
  return Object.entries(config.services).flatMap(([service, s]) =>
    s.version ? [{ service, kubernetes: versionSource(s.version.kubernetes, deployment), ec2: versionSource(s.version.ec2, deployment), pair: s.route53 }] : [],
  );
}

/**
 * The real Route 53, with the AWS SDK imported off the start-up path: it is among the largest
 * things the bot loads (a sixth of start-up), and nothing needs it before the first command.
 * `preload()` starts the import once the bot is up, so that command does not wait for it either.
 */
function route53Pairs(tuning: Tuning, metrics: Metrics): WeightedPair & { preload(): void } {
  let pairs: Promise<WeightedPair> | undefined;
  const load = () =>
    (pairs ??= import('./adapters/route53-weighted-pair.js').then(({ createRoute53Client, Route53WeightedPair }) => {
      const client = createRoute53Client({ maxAttempts: tuning.route53MaxAttempts });
      countRoute53Calls(client, metrics);
      return new Route53WeightedPair(client, { pollIntervalMs: tuning.route53PollMs, syncTimeoutMs: tuning.route53SyncTimeoutMs });
    }));
  return {
    preload: () => void load().catch(() => undefined),
    read: async (t) => (await load()).read(t),
    readMany: async (ts) => (await load()).readMany(ts),
    swap: async (t, e, w) => (await load()).swap(t, e, w),
    waitInSync: async (id, o) => (await load()).waitInSync(id, o),
  };
}

/** Kubernetes and memcache are only needed, and only connected, once cron jobs are configured. */
function cronParts(config: Config, k8s: Awaited<ReturnType<typeof kubernetes>>, metrics: Metrics): CronParts | undefined {
  if (!cronConfigured(config) || !k8s || !config.memcache) return undefined;
  return {
    cron: countPortCalls(new k8s.adapters.KubernetesCronPlacement(k8s.kube()), 'kubernetes', metrics),
    locks: new MemcacheLockReader({ servers: config.memcache.servers.join(',') }),
  };
}

export interface RunningBot {
  /** Where the web role listens (0 when it does not run). */
  readonly port: number;
  /** Graceful: stop taking work, let an apply in flight finish. `force` simulates a crash. */
  stop(opts?: { force?: boolean }): Promise<void>;
}

/** Whether the bot token works; cached (the answer in flight too) so a probe every few seconds costs one call a minute. */
function slackAuthCheck(client: WebClient): () => Promise<string | undefined> {
  let cache: { at: number; problem: Promise<string | undefined> } | undefined;
  return () => {
    if (cache && Date.now() - cache.at < 60_000) return cache.problem;
    const problem = client.auth.test().then(
      () => undefined,
      (err: unknown) => `Slack rejected the bot token (${slackErrorCode(err)})`,
    );
    cache = { at: Date.now(), problem };
    return problem;
  };
}

export async function startBot(s: BotSettings): Promise<RunningBot> {
  const { config, tuning, log } = s;
  const clock = s.clock ?? systemClock;
  const redis = await connectRedis(s.redis);
  const closers: Array<(force: boolean) => Promise<unknown>> = [];

  const queue = new ChangeQueue(redis, tuning);
  queue.queue.on('error', (err) => log.warn({ err: err.message }, 'queue connection error'));
  const metrics = new Metrics({ queueDepth: () => queue.depth() });
  // A failover (Sentinel, ElastiCache) promotes a replica, which has only what was replicated
  // to it: while the master has replicas, every request transition waits for one before anyone
  // is told of it. A Redis without replicas is not waited on.
  const durability = {
    replicas: 1,
    timeoutMs: 500,
    onShortfall: (acked: number, wanted: number) =>
      log.warn({ acked, wanted, redis: describeRedis(s.redis) }, 'a request was written to Redis but not yet to a replica; a failover now could lose it'),
  };
  const store = new RequestStore(redis, (next, previous) => {
    if (next.status === previous?.status) return;
    metrics.requestChanged(next);
    // The audit trail: one JSON line per transition, for the company's log pipeline.
    log.info(
      {
        event: 'request.transition',
        requestId: next.id,
        target: targetName(next.change),
        kind: next.change.kind,
        rollbackOf: next.rollbackOf,
        from: previous?.status,
        status: next.status,
        actor: next.status === 'requested' ? next.requestedBy : ['approved', 'rejected', 'cancelled'].includes(next.status) ? next.decidedBy : 'worker',
        change: describeChange(next),
        failure: next.failure?.code,
      },
      `request #${next.id} ${next.status}`,
    );
  }, undefined, durability);
  const client = new WebClient(s.slack.botToken, {
    ...(s.slack.apiUrl ? { slackApiUrl: s.slack.apiUrl } : {}),
    retryConfig: INTERACTIVE_RETRIES,
    logger: slackLogger(log, 'slack-web-api'),
  });
  const quickClient = new WebClient(s.slack.botToken, {
    ...(s.slack.apiUrl ? { slackApiUrl: s.slack.apiUrl } : {}),
    logger: slackLogger(log, 'slack-web-api'),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 3000,
  });
  const notifier = new Notifier(client, log, quickClient);
  // Asked now, while the rest starts, so the first /readyz finds the answer waiting.
  const slackAuth = slackAuthCheck(client);
  void slackAuth();
  const route53 = s.pairs ? undefined : route53Pairs(tuning, metrics);
  const pairs = watchShares(s.pairs ?? route53!, config, metrics);

  const k8s = await kubernetes(config);
  const cronp = cronParts(config, k8s, metrics);
  const driftStore = new DriftStore(redis);
  const sources = versionSources(config, k8s);
  const drift =
    sources.length > 0
      ? new DriftChecker({
          services: sources,
          store: driftStore,
          pairs,
          announcer: new SlackDriftAnnouncer(notifier),
          alertChannel: config.slack.alertChannel,
          settings: { graceMs: config.drift.graceSeconds * 1000, remindEveryMs: config.drift.remindEveryMinutes * 60_000 },
          clock,
          log,
          onChecked: (states) => metrics.driftChecked(states),
        })
      : undefined;
  const overview = cronp ? new CronOverview(config, cronp.cron, cronp.locks, store) : undefined;
  const witnesses = new CronWitnessStore(redis);
  // Chart.js and the native canvas load only when a report is made (src/adapters/share-chart.ts).
  const chart: ChartRenderer = async (series, opts) => (await import('./adapters/share-chart.js')).renderShareChart(series, opts);
  const report = new ProgressReport({ config, store, pairs, client, clock, log, chart });
  // Out-of-band weight changes (README "Out-of-band weight changes"); STRANGLER_OUTSIDE_CHECK_EVERY_MS=0 turns it off.
  const outsideStore = new OutsideStore(redis);
  const outside =
    tuning.outsideCheckEveryMs > 0 && Object.keys(config.services).length > 0
      ? new OutsideChecker({
          services: Object.entries(config.services).map(([service, sc]) => ({ service, pair: sc.route53 })),
          pairs,
          claims: s.claims ?? route53Claims(tuning, metrics),
          store: outsideStore,
          requests: store,
          announcer: new SlackOutsideAnnouncer(notifier),
          alertChannel: config.slack.alertChannel ?? config.slack.approvalChannel,
          clock,
          log,
        })
      : undefined;
  const metricReader = s.metricReader ?? createMetricReaders({ timeoutMs: tuning.gateReadTimeoutMs });
  // A ramp's bake may last hours: on shutdown its driver lets go at once rather than hold the stop
  // up, and the next worker's start-up sweep resumes it with the bake time left.
  let stopping = false;

  let worker: ChangeWorker | undefined;
  if (s.roles.includes('worker')) {
    const zoneLock = new ZoneLock(redis);
    const applyDeps = {
      store,
      pairs,
      zoneLock,
      clock,
      targetOf: (service: string) => pairTarget(config, service),
      syncTimeoutMs: tuning.route53SyncTimeoutMs,
      onVerified: (service: string, weights: Weights) => outsideStore.setBaseline(service, { weights, source: 'applied', at: clock.now() }),
    };
    const connection: Redis = workerRedis(s.redis);
    worker = new ChangeWorker({
      connection,
      store,
      queue,
      display: notifier,
      clock,
      log,
      lockDurationMs: tuning.jobLockMs,
      apply: (r: ChangeRequest) => {
        if (r.change.kind === 'weight') return applyWeightChange(r.id, applyDeps);
        if (r.change.kind === 'ramp') return runRamp(r.id, { ...applyDeps, reader: metricReader, display: notifier, sampleMs: tuning.rampSampleMs, stopping: () => stopping, maxStepOf: (service: string) => config.services[service]?.maxStep ?? 100 });
        if (!cronp) throw new Error('cron moves are not configured on this worker');
        return applyCronMove(r.id, { config, store, cron: cronp.cron, locks: cronp.locks, clock, log, witnessDelayMs: tuning.witnessDelayMs });
      },
      afterApplied: async (r: ChangeRequest) => {
        if (r.witnessAt !== undefined) await queue.scheduleWitness(r.id, r.witnessAt);
      },
      witness: async (id: number) => {
        if (cronp) await witnessCronMove(id, { config, store, cron: cronp.cron, locks: cronp.locks, display: notifier, witnesses });
      },
      ...(drift ? { drift: () => drift.tick() } : {}),
      ...(config.report
        ? {
            report: () =>
              report.post(config.report!.channel, { scheduled: true }).catch((err: Error) => {
                log.warn({ err: err.message, channel: config.report!.channel }, 'the scheduled progress report could not be posted; it is retried');
                throw err;
              }),
          }
        : {}),
      ...(outside ? { outside: () => outside.tick() } : {}),
    });
    const schedule = async () => {
      await queue.scheduleSweep();
      if (drift) await queue.scheduleDrift(config.drift.intervalSeconds * 1000);
      await queue.scheduleReport(config.report);
      if (outside) await queue.scheduleOutsideCheck(tuning.outsideCheckEveryMs);
    };
    await schedule();
    // A Redis that lost its data (flushed, restarted without persistence, failed over to an empty
    // replica) also lost the job schedulers, and nothing else would bring them back: upsert them
    // again every sweep interval. Upserting an existing scheduler changes nothing.
    const reschedule = setInterval(() => {
      schedule().catch((err: Error) => log.warn({ err: err.message }, 'could not re-create the job schedulers'));
    }, tuning.sweepEveryMs);
    reschedule.unref();
    closers.push(async () => clearInterval(reschedule));
    await worker.sweep();
    const w = worker;
    closers.push(async (force) => {
      await w.close(force);
      connection.disconnect();
    });
  }

  let port = 0;
  const routes = healthRoutes({ redis, metrics, slackAuth });
  // The tandem-deploy gate for CI, next to the probes on every process's HTTP port.
  routes.push(
    ...(await versionsApiRoutes({
      tokens: s.apiTokens ?? [],
      services: new Map(Object.entries(config.services).map(([name, svc]) => [name, svc.version !== undefined])),
      driftStore,
      redis,
      rateLimit: { points: tuning.apiRateLimit, windowSeconds: tuning.apiRateWindowSeconds },
      metrics,
      log,
    })),
  );
  if (!s.roles.includes('web')) {
    const server = await serveRoutes(routes, s.port);
    port = server.port;
    closers.push(() => server.close());
  } else {
    const groups = new GroupResolver(client, log);
    const desk = new RequestDesk({
      config,
      store,
      pairs,
      queue,
      client,
      groups,
      clock,
      notifier,
      metricReader,
      ...(overview ? { cronPlacement: (job: string) => overview.placement(job) } : {}),
    });
    const extensions: CommandExtensions = {};
    if (overview) {
      extensions.cronList = async () => renderCronList(await overview.statuses());
      extensions.statusTexts = async (only?: string) => (await overview.statuses(only)).map(cronJobLines);
    }
    if (drift) {
      extensions.drift = async () => {
        const { states, now } = await drift.current();
        return renderDriftTable(states, now);
      };
      extensions.serviceExtras = async (names) => {
        const states = await driftStore.all();
        const now = clock.now();
        const withVersions = names.filter((n) => config.services[n]?.version);
        return new Map(withVersions.map((n) => [n, [statusVersionLine(states.get(n), now)]]));
      };
    }
    extensions.report = (origin) => report.onDemand(origin.channel);
    if (outside) {
      const before = extensions.serviceExtras;
      extensions.serviceExtras = async (names) => {
        const [earlier, states, claims] = await Promise.all([before?.(names), outsideStore.states(), outsideStore.claims()]);
        return new Map(names.map((n) => [n, [...(earlier?.get(n) ?? []), ...outsideStatusLines(states.get(n), claims.get(n)?.claims ?? [])]]));
      };
    }
    const router = new CommandRouter({ config, store, pairs, desk, notifier, log, extensions });
    const followUps = new FollowUps({
      concurrency: tuning.followUpConcurrency,
      maxPending: tuning.maxPendingCommands,
      onError: (err) => log.error({ err: (err as Error)?.stack ?? String(err) }, 'a command answer or click failed unexpectedly'),
    });
    const slack = createSlackApp({
      botToken: s.slack.botToken,
      signingSecret: s.slack.signingSecret,
      appToken: s.slack.appToken,
      apiUrl: s.slack.apiUrl,
      port: s.port,
      routes,
      router,
      desk,
      notifier,
      approvalChannel: config.slack.approvalChannel,
      log,
      followUps,
      onBusy: () => metrics.commandsTurnedAway.inc(),
      ...(s.slack.appToken ? { envelopes: new EnvelopeLedger(redis) } : {}),
    });
    // App Home: the migration dashboard, per user (src/slack/home-tab.ts).
    new HomeTab({
      config,
      client,
      groups,
      log,
      track: (work) => followUps.track(work),
      gather: new HomeGather({ config, pairs, store, client, clock, log, driftStore, ...(cronp ? { cron: { placement: cronp.cron, locks: cronp.locks, witnesses } } : {}) }),
    }).register(slack.app);
    if (outside) registerOutsideButtons(slack.app, { config, checker: outside, desk, groups, notifier, followUps, log });
    port = await slack.start();
    // Stop taking Slack requests first, so nothing new arrives while work drains; then answer
    // the commands already acked (their people are waiting on response_url).
    closers.unshift(async (force) => {
      await slack.app.stop();
      // Bounded, so answers still waiting cannot push a change being applied past the hard stop.
      if (!force) await Promise.race([followUps.drain(), new Promise((r) => setTimeout(r, tuning.shutdownMs / 2).unref())]);
    });
  }

  // Last: an apply in flight may still read locks while the worker drains.
  if (cronp) closers.push(async () => cronp.locks.close());
  log.info({ roles: s.roles, port }, 'strangler started');
  // At every start, so the start-up log says it whenever external-dns claims a managed name. Not
  // awaited: Route 53 (and loading its SDK) must not hold up readiness.
  if (outside) void outside.refreshClaims(true).catch((err: Error) => log.warn({ err: err.message }, 'could not read who else claims the managed records'));
  route53?.preload();
  return {
    port,
    async stop(opts = {}) {
      stopping = true;
      for (const close of closers) await close(opts.force ?? false).catch((err: Error) => log.warn({ err: err.message }, 'error while stopping'));
      await queue.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}
