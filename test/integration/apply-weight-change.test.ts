import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RequestClosed, StaleChange } from '../../src/core/errors.js';
import type { PairSnapshot, WeightedPair, WeightedPairTarget } from '../../src/core/ports.js';
import type { Weights } from '../../src/core/split.js';
import { applyWeightChange } from '../../src/queue/apply-weight-change.js';
import { RequestStore } from '../../src/store/request-store.js';
import { ZoneLock } from '../../src/store/zone-lock.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const target: WeightedPairTarget = { hostedZoneId: 'Z1', recordName: 'api.example.com', recordType: 'A', kubernetesSetIdentifier: 'k', ec2SetIdentifier: 'e' };

function snapshot(w: Weights): PairSnapshot {
  const rec = (id: string, weight: number) => ({ setIdentifier: id, weight, record: { Name: 'api.example.com.', Type: 'A', SetIdentifier: id, Weight: weight, TTL: 60, ResourceRecords: [{ Value: "10.0.0.1" }] } });
  return { kubernetes: rec('k', w.kubernetes), ec2: rec('e', w.ec2), ttl: 60 };
}

/**
 * Route 53 as the processor sees it through its port, with what the SDK can do to it: a batch
 * that lands while the response is lost, so the SDK's retry of it is refused as not matching.
 */
class PairThatLosesResponses implements WeightedPair {
  weights: Weights = { kubernetes: 10, ec2: 90 };
  landThenRefuse = false;
  swaps = 0;
  async read(): Promise<PairSnapshot> {
    return snapshot(this.weights);
  }
  async readMany(ts: readonly WeightedPairTarget[]): Promise<PairSnapshot[]> {
    return ts.map(() => snapshot(this.weights));
  }
  async swap(_t: WeightedPairTarget, expected: PairSnapshot, w: Weights): Promise<{ changeId: string }> {
    this.swaps++;
    if (expected.kubernetes.weight !== this.weights.kubernetes || expected.ec2.weight !== this.weights.ec2) throw new StaleChange('values do not match');
    this.weights = w;
    if (this.landThenRefuse) throw new StaleChange('the retry found the records already changed');
    return { changeId: 'C1' };
  }
  async waitInSync(): Promise<void> {}
}

describe('applying a weight change when Route 53 answers ambiguously', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  async function approvedRequest(store: RequestStore) {
    const r = await store.create({
      change: { kind: 'weight', service: 'api', from: { kubernetes: 10, ec2: 90 }, to: { kubernetes: 30, ec2: 70 }, snapshot: snapshot({ kubernetes: 10, ec2: 90 }) },
      reason: '',
      requestedBy: 'U0ALICE',
      requestedAt: Date.now(),
      expiresAt: Date.now() + 60_000,
      origin: { channel: 'C0OPS' },
    });
    await store.apply(r.id, { type: 'approve', by: 'U0BOB', at: Date.now() });
    return r.id;
  }

  function deps(store: RequestStore, pairs: WeightedPair) {
    return { store, pairs, zoneLock: new ZoneLock(redis), clock: { now: () => Date.now() }, targetOf: () => target, syncTimeoutMs: 1000 };
  }

  it('a batch that landed before its retry was refused is applied, not stale', async () => {
    const store = new RequestStore(redis);
    const pairs = new PairThatLosesResponses();
    pairs.landThenRefuse = true;
    const id = await approvedRequest(store);
    const done = await applyWeightChange(id, deps(store, pairs));
    expect(done.status).toBe('applied');
    expect(done.notes?.[0]).toContain('its Route 53 change id was lost');
    expect((await store.lastApplied('service:api'))?.id).toBe(id);
  });

  it('a batch refused because someone else changed the records is stale, and says the current split', async () => {
    const store = new RequestStore(redis);
    const pairs = new PairThatLosesResponses();
    const id = await approvedRequest(store);
    const original = pairs.read.bind(pairs);
    let reads = 0;
    // The console edit lands between the processor's read and its batch.
    pairs.read = async () => {
      const s = await original();
      if (++reads === 1) pairs.weights = { kubernetes: 50, ec2: 50 };
      return s;
    };
    const done = await applyWeightChange(id, deps(store, pairs));
    expect(done.status).toBe('stale');
    expect(done.failure?.message).toContain('Current split: Kubernetes 50% · EC2 50%');
    expect(pairs.weights).toEqual({ kubernetes: 50, ec2: 50 });
  });

  it('running the same approved request twice swaps once', async () => {
    const store = new RequestStore(redis);
    const pairs = new PairThatLosesResponses();
    const id = await approvedRequest(store);
    // Two runs at once (a worker wrongly thought dead and its replacement): one applies, the
    // other finds the request finished (RequestClosed, which the worker treats as "done").
    const runs = await Promise.allSettled([applyWeightChange(id, deps(store, pairs)), applyWeightChange(id, deps(store, pairs))]);
    for (const run of runs) {
      if (run.status === 'rejected') expect(run.reason).toBeInstanceOf(RequestClosed);
      else expect(run.value.status).toBe('applied');
    }
    expect((await store.get(id))?.status).toBe('applied');
    expect(pairs.swaps).toBe(1);
    expect(pairs.weights).toEqual({ kubernetes: 30, ec2: 70 });
  });
});
