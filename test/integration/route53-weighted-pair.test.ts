/**
 * The Route 53 adapter through the real SDK client against the Route 53 stand-in: what a swap
 * writes, what it refuses, and how the SDK's retries and Route 53's errors reach the domain.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Route53Client, Route53ClientConfig } from '@aws-sdk/client-route-53';
import { createRoute53Client, Route53WeightedPair } from '../../src/adapters/route53-weighted-pair.js';
import { Forbidden, InvalidRecords, NotFound, StaleChange, Throttled, Unreachable } from '../../src/core/errors.js';
import type { PairSnapshot, WeightedPairTarget } from '../../src/core/ports.js';
import { fastRetryStrategy, startRoute53StandIn, type Route53StandIn, type StandInRecord } from '../support/route53-stand-in.js';

const ZONE = 'Z0STRANGLER01';
const ELB_ZONE = 'Z35SXDOTRQ7X7K';
const HEALTH_CHECK = 'b7f1c3a2-1111-4222-8333-944455556666';

let standIn: Route53StandIn;
const clients: Route53Client[] = [];

beforeEach(async () => {
  standIn = await startRoute53StandIn();
  standIn.addZone(ZONE, 'example.com');
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await standIn.close();
});

function clientFor(s: Route53StandIn, config: Route53ClientConfig = {}): Route53Client {
  const client = createRoute53Client({
    endpoint: s.url,
    credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' },
    retryStrategy: fastRetryStrategy(8),
    ...config,
  });
  clients.push(client);
  return client;
}

function adapter(config: Route53ClientConfig = {}): Route53WeightedPair {
  return new Route53WeightedPair(clientFor(standIn, config), { pollIntervalMs: 5 });
}

function target(recordName: string, recordType: WeightedPairTarget['recordType'] = 'A'): WeightedPairTarget {
  return { hostedZoneId: ZONE, recordName, recordType, kubernetesSetIdentifier: 'kubernetes', ec2SetIdentifier: 'ec2' };
}

function aliasPair(name: string, k8s: number, ec2: number): [StandInRecord, StandInRecord] {
  const kubernetes: StandInRecord = {
    Name: `${name}.`,
    Type: 'A',
    SetIdentifier: 'kubernetes',
    Weight: k8s,
    AliasTarget: { HostedZoneId: ELB_ZONE, DNSName: 'k8s-ingress-1234.us-east-1.elb.amazonaws.com.', EvaluateTargetHealth: true },
  };
  const ec2Record: StandInRecord = {
    Name: `${name}.`,
    Type: 'A',
    SetIdentifier: 'ec2',
    Weight: ec2,
    AliasTarget: { HostedZoneId: ELB_ZONE, DNSName: 'dualstack.legacy-elb-5678.us-east-1.elb.amazonaws.com.', EvaluateTargetHealth: false },
    HealthCheckId: HEALTH_CHECK,
  };
  standIn.putRecord(ZONE, kubernetes);
  standIn.putRecord(ZONE, ec2Record);
  return [kubernetes, ec2Record];
}

function cnamePair(name: string, k8s: number, ec2: number, ttl = 60): void {
  standIn.putRecord(ZONE, { Name: name, Type: 'CNAME', SetIdentifier: 'kubernetes', Weight: k8s, TTL: ttl, ResourceRecords: [{ Value: 'ingress.k8s.example.net' }] });
  standIn.putRecord(ZONE, { Name: name, Type: 'CNAME', SetIdentifier: 'ec2', Weight: ec2, TTL: ttl, ResourceRecords: [{ Value: 'legacy.ec2.example.net' }] });
}

/** What the queue does with a snapshot: it lives in Redis as JSON between request and approval. */
function throughRedis(s: PairSnapshot): PairSnapshot {
  return JSON.parse(JSON.stringify(s)) as PairSnapshot;
}

describe('read', () => {
  it('reads an alias pair: weights, the records as Route 53 returned them, and no TTL', async () => {
    const [k8s, ec2] = aliasPair('api.example.com', 30, 70);
    const snap = await adapter().read(target('api.example.com'));
    expect(snap).toEqual({
      kubernetes: { setIdentifier: 'kubernetes', weight: 30, record: k8s },
      ec2: { setIdentifier: 'ec2', weight: 70, record: ec2 },
      ttl: null,
    });
    expect(throughRedis(snap)).toEqual(snap);
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(1);
    expect(standIn.calls[0]!.query).toMatchObject({ name: 'api.example.com.', type: 'A' });
  });

  it('reads a CNAME pair with its TTL, whatever the case and trailing dot of the configured name', async () => {
    cnamePair('web.example.com', 100, 0, 60);
    aliasPair('web2.example.com', 1, 1);
    const snap = await adapter().read(target('WEB.example.com', 'CNAME'));
    expect(snap.ttl).toBe(60);
    expect([snap.kubernetes.weight, snap.ec2.weight]).toEqual([100, 0]);
    expect(snap.ec2.record).toEqual({ Name: 'web.example.com.', Type: 'CNAME', SetIdentifier: 'ec2', Weight: 0, TTL: 60, ResourceRecords: [{ Value: 'legacy.ec2.example.net' }] });
  });

  it('names the record and set identifier when one of the pair is missing', async () => {
    standIn.putRecord(ZONE, { Name: 'api.example.com', Type: 'A', SetIdentifier: 'ec2', Weight: 100, TTL: 60, ResourceRecords: [{ Value: '192.0.2.10' }] });
    standIn.putRecord(ZONE, { Name: 'api.example.com', Type: 'A', SetIdentifier: 'blue', Weight: 0, TTL: 60, ResourceRecords: [{ Value: '192.0.2.11' }] });
    const err = await adapter().read(target('api.example.com')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRecords);
    expect((err as InvalidRecords).message).toBe('Hosted zone Z0STRANGLER01 has no A record api.example.com with set identifier `kubernetes` (found: `blue`, `ec2`).');
    expect((err as InvalidRecords).hint).toMatch(/Terraform creates them; see the README/);
  });

  it('refuses a record that is routed but not weighted', async () => {
    standIn.putRecord(ZONE, { Name: 'api.example.com', Type: 'A', SetIdentifier: 'kubernetes', Failover: 'PRIMARY', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] });
    standIn.putRecord(ZONE, { Name: 'api.example.com', Type: 'A', SetIdentifier: 'ec2', Failover: 'SECONDARY', TTL: 60, ResourceRecords: [{ Value: '192.0.2.2' }] });
    const err = await adapter().read(target('api.example.com')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRecords);
    expect((err as Error).message).toBe('The A record api.example.com with set identifier `kubernetes` is not weighted (it has no Weight).');
  });

  it('reports an unknown hosted zone as NotFound', async () => {
    await expect(adapter().read({ ...target('api.example.com'), hostedZoneId: '/hostedzone/ZMISSING' })).rejects.toBeInstanceOf(NotFound);
  });

  it('reports a stand-in that is down as Unreachable', async () => {
    const down = await startRoute53StandIn();
    const client = clientFor(down, { retryStrategy: fastRetryStrategy(3) });
    await down.close();
    const err = await new Route53WeightedPair(client).read(target('api.example.com')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Error).message).toBe('Could not reach Route 53 for ListResourceRecordSets on api.example.com (ECONNREFUSED).');
  });

  it('reports a Route 53 that stops answering as Unreachable once the socket times out', async () => {
    aliasPair('api.example.com', 30, 70);
    standIn.latencyMs = 400;
    const pair = adapter({ retryStrategy: fastRetryStrategy(2), requestHandler: { socketTimeout: 100 } });
    const err = await pair.read(target('api.example.com')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Error).message).toBe('Could not reach Route 53 for ListResourceRecordSets on api.example.com (TimeoutError).');
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(2);
  });
});

describe('readMany', () => {
  it('reads 100 services with one paginated listing of their zone', async () => {
    for (let i = 0; i < 100; i++) aliasPair(`svc${i}.example.com`, i, 100 - i);
    for (let i = 0; i < 400; i++) standIn.putRecord(ZONE, { Name: `host${i}.example.com`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: `192.0.2.${i % 250}` }] });
    const total = standIn.records(ZONE).length;
    expect(total).toBeGreaterThan(600);

    const targets = Array.from({ length: 100 }, (_, i) => target(`svc${i}.example.com`));
    const results = await adapter().readMany(targets);

    expect(standIn.countCalls('ListResourceRecordSets')).toBe(Math.ceil(total / 300));
    expect(standIn.countCalls()).toBe(Math.ceil(total / 300));
    results.forEach((r, i) => {
      expect(r).not.toBeInstanceOf(Error);
      expect([(r as PairSnapshot).kubernetes.weight, (r as PairSnapshot).ec2.weight]).toEqual([i, 100 - i]);
    });
  });

  it('answers per target: a broken pair or an unknown zone fails only its own targets', async () => {
    aliasPair('api.example.com', 10, 90);
    standIn.putRecord(ZONE, { Name: 'half.example.com', Type: 'A', SetIdentifier: 'ec2', Weight: 1, TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] });
    const results = await adapter().readMany([
      target('api.example.com'),
      { ...target('api.example.com'), hostedZoneId: 'ZELSEWHERE' },
      target('half.example.com'),
      { ...target('other.example.com'), hostedZoneId: 'ZELSEWHERE' },
    ]);
    expect((results[0] as PairSnapshot).kubernetes.weight).toBe(10);
    expect(results[1]).toBeInstanceOf(NotFound);
    expect(results[2]).toBeInstanceOf(InvalidRecords);
    expect(results[3]).toBe(results[1]);
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(2);
  });

  it('callers while a listing is in flight share it; a call after it settles lists again', async () => {
    aliasPair('api.example.com', 10, 90);
    const pairs = adapter();
    const held = standIn.holdNext('ListResourceRecordSets');
    const first = Promise.all(Array.from({ length: 10 }, () => pairs.readMany([target('api.example.com')])));
    await held.reached;
    // Changed while the listing is held: it is answered after release, so every caller sees 30/70.
    standIn.setWeight(ZONE, 'api.example.com', 'A', 'kubernetes', 30);
    standIn.setWeight(ZONE, 'api.example.com', 'A', 'ec2', 70);
    held.release();
    for (const [r] of await first) expect((r as PairSnapshot).kubernetes.weight).toBe(30);
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(1);

    standIn.setWeight(ZONE, 'api.example.com', 'A', 'kubernetes', 40);
    const [later] = await pairs.readMany([target('api.example.com')]);
    expect((later as PairSnapshot).kubernetes.weight).toBe(40);
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(2);
  });

  it('read (what a compare-and-swap starts from) never joins a listing in flight', async () => {
    aliasPair('api.example.com', 10, 90);
    const pairs = adapter();
    const held = standIn.holdNext('ListResourceRecordSets');
    const listing = pairs.readMany([target('api.example.com')]);
    await held.reached;
    standIn.setWeight(ZONE, 'api.example.com', 'A', 'kubernetes', 20);
    const fresh = await pairs.read(target('api.example.com'));
    expect(fresh.kubernetes.weight).toBe(20);
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(2);
    held.release();
    await listing;
  });

  it('a failed listing is not kept: the next caller lists again', async () => {
    aliasPair('api.example.com', 10, 90);
    const pairs = adapter({ maxAttempts: 1 });
    standIn.failNext('ListResourceRecordSets', 'AccessDenied');
    const [failed] = await pairs.readMany([target('api.example.com')]);
    expect(failed).toBeInstanceOf(Error);
    const [ok] = await pairs.readMany([target('api.example.com')]);
    expect((ok as PairSnapshot).kubernetes.weight).toBe(10);
  });
});

describe('swap', () => {
  it('changes only the weights, in one batch, and returns the change id', async () => {
    const [k8s, ec2] = aliasPair('api.example.com', 30, 70);
    const pair = adapter();
    const before = throughRedis(await pair.read(target('api.example.com')));

    const { changeId } = await pair.swap(target('api.example.com'), before, { kubernetes: 60, ec2: 40 });

    expect(changeId).toMatch(/^C[A-Z0-9]+$/);
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'kubernetes')).toEqual({ ...k8s, Weight: 60 });
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'ec2')).toEqual({ ...ec2, Weight: 40 });
    expect(standIn.countCalls('ChangeResourceRecordSets')).toBe(1);
    const batch = standIn.appliedBatches[0]!;
    expect(batch.id).toBe(changeId);
    expect(batch.comment).toBe('strangler: api.example.com k8s=60 ec2=40');
    expect(batch.changes.map((c) => `${c.action} ${c.record.SetIdentifier} ${c.record.Weight}`)).toEqual([
      'DELETE kubernetes 30',
      'DELETE ec2 70',
      'CREATE kubernetes 60',
      'CREATE ec2 40',
    ]);
  });

  it('keeps the TTL and values of a CNAME pair', async () => {
    cnamePair('web.example.com', 0, 100, 60);
    const pair = adapter();
    const t = target('web.example.com', 'CNAME');
    await pair.swap(t, await pair.read(t), { kubernetes: 5, ec2: 95 });
    expect(standIn.getRecord(ZONE, 'web.example.com', 'CNAME', 'kubernetes')).toMatchObject({ Weight: 5, TTL: 60, ResourceRecords: [{ Value: 'ingress.k8s.example.net' }] });
    expect((await pair.read(t)).ttl).toBe(60);
  });

  it('waits until Route 53 reports the change INSYNC', async () => {
    aliasPair('api.example.com', 30, 70);
    standIn.pendingPolls = 2;
    const pair = adapter();
    const { changeId } = await pair.swap(target('api.example.com'), await pair.read(target('api.example.com')), { kubernetes: 35, ec2: 65 });
    await pair.waitInSync(changeId);
    expect(standIn.countCalls('GetChange')).toBe(3);
    expect(standIn.calls.filter((c) => c.operation === 'GetChange').every((c) => c.changeId === changeId)).toBe(true);
  });

  it('gives up waiting after the timeout, saying the change may still apply', async () => {
    aliasPair('api.example.com', 30, 70);
    standIn.pendingPolls = Number.POSITIVE_INFINITY;
    let clock = 0;
    const pair = new Route53WeightedPair(clientFor(standIn), {
      pollIntervalMs: 10_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    const { changeId } = await pair.swap(target('api.example.com'), await pair.read(target('api.example.com')), { kubernetes: 35, ec2: 65 });
    const err = await pair.waitInSync(changeId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Error).message).toBe(`Route 53 has not confirmed change ${changeId} after 180 s; it may still apply. Check /strangle status.`);
    expect(standIn.countCalls('GetChange')).toBe(19);
  });

  it('is refused as stale when a weight was changed behind its back, and changes nothing', async () => {
    const [k8s] = aliasPair('api.example.com', 30, 70);
    const pair = adapter();
    const seen = throughRedis(await pair.read(target('api.example.com')));
    standIn.setWeight(ZONE, 'api.example.com', 'A', 'ec2', 50);

    const err = await pair.swap(target('api.example.com'), seen, { kubernetes: 60, ec2: 40 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(StaleChange);
    expect((err as Error).message).toBe(
      'The records for api.example.com changed since this request was made (someone edited them in the console or Terraform ran), so nothing was applied.',
    );
    // The kubernetes record matched and would have been rewritten on its own: all or nothing.
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'kubernetes')).toEqual(k8s);
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'ec2')?.Weight).toBe(50);
    expect(standIn.countCalls('ChangeResourceRecordSets')).toBe(1);
    expect(standIn.appliedBatches).toHaveLength(0);
  });

  it('is refused as stale in the legacy InvalidChangeBatch shape too', async () => {
    aliasPair('api.example.com', 30, 70);
    const pair = adapter();
    const seen = await pair.read(target('api.example.com'));
    standIn.invalidChangeBatchFormat = 'legacy';
    standIn.setWeight(ZONE, 'api.example.com', 'A', 'kubernetes', 31);
    await expect(pair.swap(target('api.example.com'), seen, { kubernetes: 60, ec2: 40 })).rejects.toBeInstanceOf(StaleChange);
  });

  it('never writes 0/0, which Route 53 would serve as 50/50', async () => {
    aliasPair('api.example.com', 30, 70);
    const pair = adapter();
    const seen = await pair.read(target('api.example.com'));
    await expect(pair.swap(target('api.example.com'), seen, { kubernetes: 0, ec2: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(pair.swap(target('api.example.com'), seen, { kubernetes: 256, ec2: 0 })).rejects.toBeInstanceOf(RangeError);
    expect(standIn.countCalls('ChangeResourceRecordSets')).toBe(0);
  });

  it('reports AccessDenied as Forbidden naming the IAM action', async () => {
    aliasPair('api.example.com', 30, 70);
    const pair = adapter();
    const seen = await pair.read(target('api.example.com'));
    standIn.failNext('ChangeResourceRecordSets', 'AccessDenied');
    const err = await pair.swap(target('api.example.com'), seen, { kubernetes: 60, ec2: 40 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Forbidden);
    expect((err as Error).message).toContain('route53:ChangeResourceRecordSets on hosted zone Z0STRANGLER01');
    expect(standIn.countCalls('ChangeResourceRecordSets')).toBe(1);
  });
});

describe('retries (the SDK retries, the adapter does not)', () => {
  it('retries Throttling twice and then applies the change', async () => {
    aliasPair('api.example.com', 30, 70);
    const pair = adapter();
    const seen = await pair.read(target('api.example.com'));
    standIn.failNext('ChangeResourceRecordSets', 'Throttling', 2);
    await pair.swap(target('api.example.com'), seen, { kubernetes: 60, ec2: 40 });
    expect(standIn.countCalls('ChangeResourceRecordSets')).toBe(3);
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'kubernetes')?.Weight).toBe(60);
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'ec2')?.Weight).toBe(40);
  });

  it('retries ServiceUnavailable (503) as transient', async () => {
    aliasPair('api.example.com', 30, 70);
    standIn.failNext('ListResourceRecordSets', 'ServiceUnavailable', 2);
    await expect(adapter().read(target('api.example.com'))).resolves.toMatchObject({ kubernetes: { weight: 30 } });
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(3);
  });

  it('retries PriorRequestNotComplete with the default client: standard mode, 8 attempts', async () => {
    aliasPair('api.example.com', 30, 70);
    const client = createRoute53Client({ endpoint: standIn.url, credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' } });
    clients.push(client);
    expect(await client.config.maxAttempts()).toBe(8);
    expect(await client.config.region()).toBe(process.env['AWS_REGION'] ?? 'us-east-1');
    expect((await client.config.retryStrategy()) as { mode?: string }).toMatchObject({ mode: 'standard' });

    const pair = new Route53WeightedPair(client, { pollIntervalMs: 5 });
    const seen = await pair.read(target('api.example.com'));
    standIn.failNext('ChangeResourceRecordSets', 'PriorRequestNotComplete', 1);
    await pair.swap(target('api.example.com'), seen, { kubernetes: 60, ec2: 40 });
    expect(standIn.countCalls('ChangeResourceRecordSets')).toBe(2);
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'kubernetes')?.Weight).toBe(60);
  });

  it('reports throttling that outlasts the retries as Throttled, with nothing applied', async () => {
    aliasPair('api.example.com', 30, 70);
    const pair = adapter({ retryStrategy: fastRetryStrategy(3) });
    const seen = await pair.read(target('api.example.com'));
    standIn.failNext('ChangeResourceRecordSets', 'Throttling', 100);
    const err = await pair.swap(target('api.example.com'), seen, { kubernetes: 60, ec2: 40 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Throttled);
    expect((err as Error).message).toBe('Route 53 kept throttling ChangeResourceRecordSets for api.example.com (Throttling) after 3 attempts.');
    expect(standIn.countCalls('ChangeResourceRecordSets')).toBe(3);
    expect(standIn.getRecord(ZONE, 'api.example.com', 'A', 'kubernetes')?.Weight).toBe(30);
  });

  it('gets through a 5 requests/s rate limit with backoff', async () => {
    standIn.rateLimit(5);
    for (let i = 0; i < 8; i++) aliasPair(`svc${i}.example.com`, i, 100 - i);
    const pair = adapter({ retryStrategy: fastRetryStrategy(10, (retry) => Math.random() * Math.min(1000, 50 * 2 ** retry)) });
    const snaps = await Promise.all(Array.from({ length: 8 }, (_, i) => pair.read(target(`svc${i}.example.com`))));
    expect(snaps.map((s) => s.kubernetes.weight)).toEqual(Array.from({ length: 8 }, (_, i) => i));
    expect(standIn.calls.filter((c) => c.status === 400).length).toBeGreaterThan(0);
  });
});
