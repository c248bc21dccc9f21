import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRoute53Client, Route53WeightedPair } from '../../src/adapters/route53-weighted-pair.js';
import { HttpVersionSource } from '../../src/adapters/http-version-source.js';
import { DeploymentVersionSource } from '../../src/adapters/deployment-version-source.js';
import { KubeConfig } from '@kubernetes/client-node';
import type { VersionSource } from '../../src/core/ports.js';
import { silentLogger } from '../../src/log.js';
import { Notifier } from '../../src/slack/notifier.js';
import { SlackDriftAnnouncer } from '../../src/slack/drift-announcer.js';
import { renderDriftTable } from '../../src/slack/render-drift.js';
import { DriftChecker, type ServiceVersionSources } from '../../src/queue/drift-check.js';
import { DriftStore } from '../../src/store/drift-store.js';
import { startKubernetesStandIn, type KubernetesStandIn } from '../support/kubernetes-stand-in.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { Route53StandIn } from '../support/route53-stand-in.js';
import { renderedText, type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.js';
import { VersionEndpoints } from '../support/version-endpoints.js';
import { aliasRecord, ZONE } from '../support/bot-harness.js';

const ALERTS = 'C0ALERTS';
const MIN = 60_000;

describe('drift check', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  let slack: SlackStandIn;
  let r53: Route53StandIn;
  let kube: KubernetesStandIn;
  let http: VersionEndpoints;
  let now = Date.parse('2026-11-25T10:00:00Z');
  const clock = { now: () => now };

  beforeAll(async () => {
    [redisServer, slack, r53, kube, http] = await Promise.all([
      startRedisServer(),
      startSlackStandIn(),
      Route53StandIn.start({ pendingPolls: 0 }),
      startKubernetesStandIn(),
      VersionEndpoints.start(),
    ]);
    redis = new Redis(redisServer.url);
    r53.addZone(ZONE, 'example.com.');
    r53.putRecord(ZONE, aliasRecord('api.example.com', 'primary', 30, 'k8s-lb.elb.amazonaws.com'));
    r53.putRecord(ZONE, aliasRecord('api.example.com', 'secondary', 70, 'ec2-lb.elb.amazonaws.com'));
  });
  afterAll(async () => {
    redis?.disconnect();
    await Promise.allSettled([redisServer?.stop(), slack?.close(), r53?.close(), kube?.close(), http?.close()]);
  });
  beforeEach(async () => {
    await redis.flushall();
    slack.reset();
  });

  function pairs() {
    const client = createRoute53Client({ endpoint: r53.url, credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, maxAttempts: 1 });
    return new Route53WeightedPair(client, { pollIntervalMs: 10 });
  }

  function checker(services: ServiceVersionSources[], opts: { concurrency?: number } = {}): DriftChecker {
    return new DriftChecker({
      services,
      store: new DriftStore(redis),
      pairs: pairs(),
      announcer: new SlackDriftAnnouncer(new Notifier(new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }), silentLogger)),
      alertChannel: ALERTS,
      settings: { graceMs: 10 * MIN, remindEveryMs: 240 * MIN },
      clock,
      log: silentLogger,
      ...opts,
    });
  }

  const pair = { hostedZoneId: ZONE, recordName: 'api.example.com', recordType: 'A' as const, kubernetesSetIdentifier: 'primary', ec2SetIdentifier: 'secondary' };

  function api(kPath = '/k8s/api', ePath = '/ec2/api'): ServiceVersionSources {
    return {
      service: 'api',
      kubernetes: new HttpVersionSource({ url: `${http.url}${kPath}`, field: 'commit', timeoutMs: 500 }),
      ec2: new HttpVersionSource({ url: `${http.url}${ePath}`, field: 'commit', timeoutMs: 500 }),
      pair,
    };
  }

  const topLevel = () => slack.messages(ALERTS).filter((m) => !m.thread_ts);
  const replies = (ts: string) => slack.messages(ALERTS).filter((m) => m.thread_ts === ts);

  it('in sync: no alert, the state is remembered', async () => {
    http.set('/k8s/api', 'abc123');
    http.set('/ec2/api', 'abc123');
    const c = checker([api()]);
    expect(await c.tick()).toBe(true);
    expect(slack.calls).toHaveLength(0);
    const state = (await new DriftStore(redis).all()).get('api');
    expect(state?.episode).toBeUndefined();
    expect(state?.kubernetes).toEqual({ version: 'abc123' });
  });

  it('drift shorter than the grace period is a deploy in progress: no alert', async () => {
    http.set('/k8s/api', 'def456');
    http.set('/ec2/api', 'abc123');
    const c = checker([api()]);
    await c.tick();
    now += 9 * MIN;
    await c.tick();
    http.set('/ec2/api', 'def456'); // EC2 caught up
    now += 1 * MIN;
    await c.tick();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('drift past the grace: one alert with versions, since and split; reminders in the thread; resolution', async () => {
    http.set('/k8s/api', 'def456');
    http.set('/ec2/api', 'abc123');
    const start = now;
    const c = checker([api()]);
    await c.tick();
    now += 11 * MIN;
    await c.tick();
    now += 1 * MIN;
    await c.tick();
    expect(topLevel()).toHaveLength(1);
    const alert = topLevel()[0]!;
    const text = renderedText(alert);
    expect(text).toContain('*api* runs different versions: Kubernetes `def456` · EC2 `abc123`');
    expect(text).toContain(`<!date^${Math.floor(start / 1000)}^`);
    expect(text).toContain('Traffic now: Kubernetes 30% · EC2 70%');

    now += 240 * MIN;
    await c.tick();
    now += 1 * MIN;
    await c.tick();
    expect(topLevel()).toHaveLength(1);
    expect(replies(alert.ts).map((m) => m.text)).toEqual([expect.stringContaining('Still drifting after 4 h 12 min')]);

    http.set('/ec2/api', 'def456');
    now += 2 * MIN;
    await c.tick();
    const thread = replies(alert.ts);
    expect(thread).toHaveLength(2);
    expect(thread[1]!.text).toContain('*api* back in sync on `def456` after 4 h 15 min');
    expect(renderedText(slack.message(ALERTS, alert.ts)!)).toContain('Back in sync on `def456`');
    expect((await new DriftStore(redis).all()).get('api')?.episode).toBeUndefined();
  });

  it('an unreadable source is unknown, not drift, and gets an alert of its own saying what failed', async () => {
    http.set('/k8s/api', 'abc123');
    http.fail('/ec2/api', 503);
    const c = checker([api()]);
    await c.tick();
    now += 5 * MIN;
    await c.tick();
    expect(topLevel()).toHaveLength(0);
    now += 6 * MIN;
    await c.tick();
    expect(topLevel()).toHaveLength(1);
    const text = renderedText(topLevel()[0]!);
    expect(text).toContain('cannot read the running version on EC2');
    expect(text).toContain('HTTP 503');
    expect(text).not.toContain('runs different versions');
    expect(text).not.toMatch(/at \w+ \(|node:internal|\.ts:\d+/); // no stack trace
  });

  it('a restart in the middle of an episode neither repeats nor forgets the alert', async () => {
    http.set('/k8s/api', 'def456');
    http.set('/ec2/api', 'abc123');
    await checker([api()]).tick();
    now += 11 * MIN;
    await checker([api()]).tick();
    expect(topLevel()).toHaveLength(1);
    // A new process: new connection, new checker, same Redis.
    const redis2 = new Redis(redisServer.url);
    const restarted = new DriftChecker({
      services: [api()],
      store: new DriftStore(redis2),
      pairs: pairs(),
      announcer: new SlackDriftAnnouncer(new Notifier(new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl }), silentLogger)),
      alertChannel: ALERTS,
      settings: { graceMs: 10 * MIN, remindEveryMs: 240 * MIN },
      clock,
      log: silentLogger,
    });
    now += 1 * MIN;
    await restarted.tick();
    expect(topLevel()).toHaveLength(1);
    http.set('/ec2/api', 'def456');
    now += 1 * MIN;
    await restarted.tick();
    expect(replies(topLevel()[0]!.ts)[0]!.text).toContain('back in sync on `def456` after 13 min');
    redis2.disconnect();
  });

  it('a Deployment source reports its image tag and a rollout in progress', async () => {
    kube.putDeployment({
      namespace: 'api',
      name: 'api',
      containers: [{ name: 'api', image: 'registry.example.com/api:def456' }],
      previousContainers: [{ name: 'api', image: 'registry.example.com/api:abc123' }],
      replicas: 4,
      updatedReplicas: 1,
    });
    http.set('/ec2/api', 'abc123');
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfig());
    const c = checker([{ service: 'api', kubernetes: new DeploymentVersionSource(kc, { namespace: 'api', name: 'api', container: 'api' }), ec2: api().ec2, pair }]);
    const { states, now } = await c.current();
    const table = renderedText(renderDriftTable(states, now) as Parameters<typeof renderedText>[0]);
    expect(table).toContain('*api*: Kubernetes `abc123` (rolling out `def456`) · EC2 `abc123`, *in sync*');
  });

  it('reads run concurrently within the bound, and a slow source only makes its own service unknown', async () => {
    const services: ServiceVersionSources[] = [];
    let inFlight = 0;
    let peak = 0;
    const counted = (inner: VersionSource): VersionSource => ({
      description: inner.description,
      async read() {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          return await inner.read();
        } finally {
          inFlight--;
        }
      },
    });
    for (let i = 0; i < 40; i++) {
      const slow = i % 10 === 0;
      http.set(`/k8s/s${i}`, 'v1', { delayMs: slow ? 2000 : 20 });
      http.set(`/ec2/s${i}`, 'v1', { delayMs: 20 });
      const base = api(`/k8s/s${i}`, `/ec2/s${i}`);
      services.push({ ...base, service: `s${i}`, kubernetes: counted(base.kubernetes), ec2: counted(base.ec2) });
    }
    const c = checker(services, { concurrency: 8 });
    const readings = await c.readAll();
    expect(peak).toBe(8);
    const unknown = readings.filter((r) => 'error' in r.kubernetes).map((r) => r.service);
    expect(unknown).toEqual(['s0', 's10', 's20', 's30']);
    expect(readings.filter((r) => !('error' in r.kubernetes) && !('error' in r.ec2))).toHaveLength(36);
    expect((readings[0]!.kubernetes as { error: string }).error).toContain('timed out');
  });
});
