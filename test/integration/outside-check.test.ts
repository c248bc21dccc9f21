/**
 * The out-of-band check with real Redis and the real Route 53 adapter against the stand-in:
 * overlapping checks post one alert, a refused post is tried again (and logged once), and an
 * Accept waits for a check in progress rather than racing it.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRoute53Client, Route53WeightedPair } from '../../src/adapters/route53-weighted-pair.js';
import type { AlertRef } from '../../src/core/drift.js';
import { OutsideAlertOutdated, type OutsideAnnouncer } from '../../src/core/outside-change.js';
import type { PairSnapshot } from '../../src/core/ports.js';
import type { RampPlan } from '../../src/core/ramp-plan.js';
import { afterSwap, pause, type RampRun, reserveChild, startRun, stepApplied } from '../../src/core/ramp-run.js';
import { OutsideChecker } from '../../src/queue/outside-check.js';
import { OutsideStore } from '../../src/store/outside-store.js';
import { RequestStore } from '../../src/store/request-store.js';
import { aliasRecord, ZONE } from '../support/bot-harness.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { fastRetryStrategy, Route53StandIn } from '../support/route53-stand-in.js';

const target = { hostedZoneId: ZONE, recordName: 'api.example.com', recordType: 'A' as const, kubernetesSetIdentifier: 'primary', ec2SetIdentifier: 'secondary' };

describe('OutsideChecker', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  let r53: Route53StandIn;
  let pairs: Route53WeightedPair;
  const posted: string[] = [];
  const calls: string[] = [];
  let refuse = 0;
  const lines: string[] = [];
  const announcer: OutsideAnnouncer = {
    alert: async (channel, service, e) => {
      calls.push(`alert ${service} ${e.live.kubernetes}/${e.live.ec2}`);
      if (refuse > 0) {
        refuse -= 1;
        return undefined;
      }
      const ref: AlertRef = { channel, ts: String(posted.length + 1) };
      posted.push(ref.ts);
      return ref;
    },
    update: async (a, service, e) => void calls.push(`update ${a.ts} ${service} ${e.live.kubernetes}/${e.live.ec2}`),
    resolve: async (a, service, _e, end) => void calls.push(`resolve ${a.ts} ${service} ${end.type}`),
  };
  const checker = () =>
    new OutsideChecker({
      services: [{ service: 'api', pair: target }],
      pairs,
      store: new OutsideStore(redis),
      requests: new RequestStore(redis),
      announcer,
      alertChannel: 'C0ALERTS',
      clock: { now: () => Date.now() },
      log: pino({ level: 'debug' }, new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) })),
    });
  const setCalls = async () => Number(/cmdstat_set:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
  const waitUntil = async (cond: () => Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error('condition not met within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const setApi = (k: number, e: number) => {
    r53.setWeight(ZONE, 'api.example.com', 'A', 'primary', k);
    r53.setWeight(ZONE, 'api.example.com', 'A', 'secondary', e);
  };

  beforeAll(async () => {
    [redisServer, r53] = await Promise.all([startRedisServer(), Route53StandIn.start()]);
    redis = new Redis(redisServer.url);
    r53.addZone(ZONE, 'example.com.');
    pairs = new Route53WeightedPair(
      createRoute53Client({ endpoint: r53.url, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' }, retryStrategy: fastRetryStrategy(2) }),
    );
  });
  afterAll(async () => {
    redis?.disconnect();
    await Promise.allSettled([redisServer?.stop(), r53?.close()]);
  });
  beforeEach(async () => {
    await redis.flushall();
    r53.putRecord(ZONE, aliasRecord('api.example.com', 'primary', 10, 'k8s-lb.elb.amazonaws.com'));
    r53.putRecord(ZONE, aliasRecord('api.example.com', 'secondary', 90, 'ec2-lb.elb.amazonaws.com'));
    posted.length = 0;
    calls.length = 0;
    lines.length = 0;
    refuse = 0;
  });

  it('first sight sets the baseline and alerts nothing', async () => {
    expect(await checker().tick()).toBe(true);
    expect(await new OutsideStore(redis).baseline('api')).toMatchObject({ weights: { kubernetes: 10, ec2: 90 }, source: 'first-seen' });
    expect(await checker().tick()).toBe(true);
    expect(calls).toEqual([]);
  });

  it('two checks at once (two replicas): the second stands aside, one alert is posted', async () => {
    await checker().tick();
    setApi(50, 50);
    const held = r53.holdNext('ListResourceRecordSets');
    const first = checker().tick();
    await held.reached;
    expect(await checker().tick()).toBe(false);
    held.release();
    expect(await first).toBe(true);
    expect(await checker().tick()).toBe(true);
    expect(calls).toEqual(['alert api 50/50']);
  });

  it('an alert Slack refused is posted at the next check, and logged as a warning once', async () => {
    await checker().tick();
    setApi(50, 50);
    refuse = 1;
    await checker().tick();
    await checker().tick();
    await checker().tick();
    expect(calls).toEqual(['alert api 50/50', 'alert api 50/50']);
    expect(posted).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"level":40') && l.includes('"event":"outside-change"'))).toHaveLength(1);
  });

  it('judges the service of a paused ramp (paused, it may wait for days), not of one baking or landing a step', async () => {
    await checker().tick();
    const requests = new RequestStore(redis);
    const snapshot: PairSnapshot = await pairs.read(target);
    const plan: RampPlan = { steps: [20, 35], bakeMs: 60_000, onFailure: 'pause', gates: [] };
    const ramp = await requests.create({
      change: { kind: 'ramp', service: 'api', from: { kubernetes: 10, ec2: 90 }, snapshot, plan },
      reason: '',
      requestedBy: 'U0ALICE',
      requestedAt: Date.now(),
      expiresAt: Date.now() + 3_600_000,
      origin: { channel: 'C0OPS' },
    });
    const setRun = (run: RampRun) => requests.update(ramp.id, (r) => ({ ...r, status: 'applying', ramp: run }));
    const baking = stepApplied(reserveChild(startRun(snapshot), 99), plan, 99, afterSwap(snapshot, { kubernetes: 20, ec2: 80 }), Date.now());
    expect(baking.phase).toBe('baking');
    await setRun(baking);
    setApi(50, 50);
    await checker().tick();
    expect(calls).toEqual([]);

    // Paused while a step it reserved may still be landing: that step's change is not outside.
    await setRun(pause(reserveChild({ ...baking, phase: 'applying', step: 1 }, 100), 'paused by a person', { by: 'U0BOB' }));
    await checker().tick();
    expect(calls).toEqual([]);

    await setRun(pause(baking, 'a gate was inconclusive'));
    expect((await requests.openFor('service:api'))?.ramp?.phase).toBe('paused');
    await checker().tick();
    expect(calls).toEqual(['alert api 50/50']);
  });

  it('Accept waits for a check in progress, then adopts the live split; an old key is refused', async () => {
    await checker().tick();
    setApi(50, 50);
    await checker().tick();
    const state = (await new OutsideStore(redis).states()).get('api')!;
    await expect(checker().accept('api', 'not-the-key', 'U0BOB')).rejects.toBeInstanceOf(OutsideAlertOutdated);

    const held = r53.holdNext('ListResourceRecordSets');
    const tick = checker().tick();
    await held.reached;
    let accepted = false;
    const setsBefore = await setCalls();
    const accept = checker().accept('api', state.episode!.key, 'U0BOB').then((r) => ((accepted = true), r));
    // A second SET NX means the first found the check's lock: the Accept is waiting for it.
    await waitUntil(async () => (await setCalls()) >= setsBefore + 2);
    expect(accepted).toBe(false);
    expect(await new OutsideStore(redis).baseline('api')).toMatchObject({ source: 'first-seen' });
    held.release();
    await tick;
    expect((await accept).live).toEqual({ kubernetes: 50, ec2: 50 });
    expect(await new OutsideStore(redis).baseline('api')).toMatchObject({ weights: { kubernetes: 50, ec2: 50 }, source: 'accepted', by: 'U0BOB' });
    await checker().tick();
    expect(calls).toEqual(['alert api 50/50', 'resolve 1 api accepted']);
    await expect(checker().accept('api', state.episode!.key, 'U0CAROL')).rejects.toBeInstanceOf(OutsideAlertOutdated);
  });
});
