/**
 * The Route 53 stand-in's own protocol, through the real SDK client: the behaviours the adapter
 * relies on but does not exercise on every path (listing order and paging, exact-match DELETE,
 * all-or-nothing batches, error shapes).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { startRoute53StandIn, type Route53StandIn, type StandInRecord } from '../support/route53-stand-in.js';

const ZONE = 'Z0STANDIN0001';

let standIn: Route53StandIn;
let client: Route53Client;

beforeEach(async () => {
  standIn = await startRoute53StandIn();
  standIn.addZone(ZONE, 'example.com');
  client = new Route53Client({
    endpoint: standIn.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await standIn.close();
});

function cname(name: string, setIdentifier: string, weight: number, value = 'old.example.net'): StandInRecord {
  return { Name: name, Type: 'CNAME', SetIdentifier: setIdentifier, Weight: weight, TTL: 60, ResourceRecords: [{ Value: value }] };
}

async function listAll(maxItems: number): Promise<{ rows: ResourceRecordSet[]; calls: number }> {
  const rows: ResourceRecordSet[] = [];
  let next: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type']; StartRecordIdentifier?: string } = {};
  let calls = 0;
  for (;;) {
    const page = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, MaxItems: maxItems, ...next }));
    calls += 1;
    rows.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated) return { rows, calls };
    next = {
      StartRecordName: page.NextRecordName!,
      StartRecordType: page.NextRecordType!,
      ...(page.NextRecordIdentifier ? { StartRecordIdentifier: page.NextRecordIdentifier } : {}),
    };
  }
}

/** Records typed loosely (Type: string) so fixtures read like the JSON a console shows. */
type LooseChange = { Action: Change['Action']; ResourceRecordSet: StandInRecord };

async function change(changes: LooseChange[]) {
  return client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: changes as Change[] } }));
}

async function invalidBatch(changes: LooseChange[]): Promise<{ name: string; message: string }> {
  const err = (await change(changes).then(
    () => null,
    (e: unknown) => e,
  )) as { name: string; message: string; $metadata: { httpStatusCode: number } } | null;
  expect(err).not.toBeNull();
  expect(err!.$metadata.httpStatusCode).toBe(400);
  return err!;
}

describe('ListResourceRecordSets', () => {
  it('lists by name with labels reversed, then type, then set identifier, lower-case and fully qualified', async () => {
    standIn.putRecord(ZONE, cname('WWW.Example.com', 'b', 1));
    standIn.putRecord(ZONE, cname('a.b.example.com', 'x', 1));
    standIn.putRecord(ZONE, cname('www.example.com', 'a', 1));
    standIn.putRecord(ZONE, { Name: 'api.example.com', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=1"' }] });
    standIn.putRecord(ZONE, { Name: 'api.example.com', Type: 'AAAA', TTL: 300, ResourceRecords: [{ Value: '2001:db8::1' }] });
    standIn.putRecord(ZONE, { Name: 'z.example.com', Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.1' }] });

    const { rows, calls } = await listAll(2);

    expect(rows.map((r) => `${r.Name} ${r.Type} ${r.SetIdentifier ?? '-'}`)).toEqual([
      'example.com. NS -',
      'example.com. SOA -',
      'api.example.com. AAAA -',
      'api.example.com. TXT -',
      'a.b.example.com. CNAME x',
      'www.example.com. CNAME a',
      'www.example.com. CNAME b',
      'z.example.com. A -',
    ]);
    expect(calls).toBe(4);
    expect(rows.find((r) => r.Type === 'TXT')?.ResourceRecords).toEqual([{ Value: '"v=1"' }]);
  });

  it('pages inside a weighted set with NextRecordIdentifier and starts where asked', async () => {
    for (const id of ['one', 'two', 'three']) standIn.putRecord(ZONE, cname('api.example.com', id, 1));
    standIn.putRecord(ZONE, cname('web.example.com', 'only', 1));

    const first = await client.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: 'API.example.com', StartRecordType: 'CNAME', MaxItems: 2 }),
    );
    expect(first.ResourceRecordSets?.map((r) => r.SetIdentifier)).toEqual(['one', 'three']);
    expect(first).toMatchObject({ IsTruncated: true, NextRecordName: 'api.example.com.', NextRecordType: 'CNAME', NextRecordIdentifier: 'two', MaxItems: 2 });

    const second = await client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: `/hostedzone/${ZONE}`,
        StartRecordName: first.NextRecordName!,
        StartRecordType: first.NextRecordType!,
        StartRecordIdentifier: first.NextRecordIdentifier!,
        MaxItems: 2,
      }),
    );
    expect(second.ResourceRecordSets?.map((r) => `${r.Name} ${r.SetIdentifier}`)).toEqual(['api.example.com. two', 'web.example.com. only']);
    expect(second.IsTruncated).toBe(false);
    expect(second.NextRecordName).toBeUndefined();
  });

  it('returns at most 300 records per page whatever MaxItems asks', async () => {
    for (let i = 0; i < 310; i++) standIn.putRecord(ZONE, cname(`svc${String(i).padStart(3, '0')}.example.com`, 'a', 1));
    const page = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, MaxItems: 1000 }));
    expect(page.ResourceRecordSets).toHaveLength(300);
    expect(page.MaxItems).toBe(300);
    expect(page.IsTruncated).toBe(true);
    const all = await listAll(300);
    expect(all.rows).toHaveLength(312);
    expect(all.calls).toBe(2);
  });

  it('answers NoSuchHostedZone (404) for an unknown zone', async () => {
    const err = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZNOPE' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NoSuchHostedZone', message: 'No hosted zone found with ID: ZNOPE', $metadata: { httpStatusCode: 404 } });
  });
});

describe('ChangeResourceRecordSets', () => {
  const current = cname('api.example.com', 'ec2', 70);

  beforeEach(() => standIn.putRecord(ZONE, current));

  it('refuses a DELETE that differs from the live record in any field, and one of a record that is not there', async () => {
    for (const differs of [
      { ...current, Weight: 71 },
      { ...current, TTL: 300 },
      { ...current, ResourceRecords: [{ Value: 'other.example.net' }] },
      { ...current, HealthCheckId: '11111111-2222-3333-4444-555555555555' },
    ]) {
      const err = await invalidBatch([{ Action: 'DELETE', ResourceRecordSet: differs }]);
      expect(err.name).toBe('InvalidChangeBatch');
      expect(err.message).toBe(
        "[Tried to delete resource record set [name='api.example.com.', type='CNAME', set-identifier='ec2'] but the values provided do not match the current values]",
      );
    }
    const missing = await invalidBatch([{ Action: 'DELETE', ResourceRecordSet: { ...current, SetIdentifier: 'kubernetes' } }]);
    expect(missing.message).toBe("[Tried to delete resource record set [name='api.example.com.', type='CNAME', set-identifier='kubernetes'] but it was not found]");
    expect(standIn.getRecord(ZONE, 'api.example.com', 'CNAME', 'ec2')).toEqual({ ...current, Name: 'api.example.com.' });
  });

  it('accepts a DELETE that repeats the record exactly, in any letter case and without the trailing dot', async () => {
    await change([
      { Action: 'DELETE', ResourceRecordSet: { ...current, Name: 'API.EXAMPLE.COM' } },
      { Action: 'CREATE', ResourceRecordSet: { ...current, Weight: 40 } },
    ]);
    expect(standIn.getRecord(ZONE, 'api.example.com.', 'CNAME', 'ec2')?.Weight).toBe(40);
  });

  it('refuses to CREATE a record that already exists', async () => {
    const err = await invalidBatch([{ Action: 'CREATE', ResourceRecordSet: { ...current, Weight: 5 } }]);
    expect(err.name).toBe('InvalidChangeBatch');
    expect(err.message).toBe("[Tried to create resource record set [name='api.example.com.', type='CNAME', set-identifier='ec2'] but it already exists]");
  });

  it('applies a batch all or nothing, and reports every problem', async () => {
    standIn.putRecord(ZONE, cname('api.example.com', 'kubernetes', 30));
    const err = await invalidBatch([
      { Action: 'DELETE', ResourceRecordSet: cname('api.example.com', 'kubernetes', 30) },
      { Action: 'DELETE', ResourceRecordSet: { ...current, Weight: 99 } },
      { Action: 'CREATE', ResourceRecordSet: cname('api.example.com', 'kubernetes', 50) },
      { Action: 'CREATE', ResourceRecordSet: { ...current, Weight: 50 } },
      { Action: 'CREATE', ResourceRecordSet: cname('new.example.com', 'a', 1) },
    ]);
    expect(err.message).toBe(
      "[Tried to delete resource record set [name='api.example.com.', type='CNAME', set-identifier='ec2'] but the values provided do not match the current values, " +
        "Tried to create resource record set [name='api.example.com.', type='CNAME', set-identifier='ec2'] but it already exists]",
    );
    expect(standIn.getRecord(ZONE, 'api.example.com', 'CNAME', 'kubernetes')?.Weight).toBe(30);
    expect(standIn.getRecord(ZONE, 'new.example.com', 'CNAME', 'a')).toBeUndefined();
    expect(standIn.appliedBatches).toHaveLength(0);
  });

  it('UPSERTs blindly, creating or replacing', async () => {
    await change([
      { Action: 'UPSERT', ResourceRecordSet: { ...current, Weight: 1, TTL: 30 } },
      { Action: 'UPSERT', ResourceRecordSet: cname('api.example.com', 'kubernetes', 2) },
    ]);
    expect(standIn.getRecord(ZONE, 'api.example.com', 'CNAME', 'ec2')).toMatchObject({ Weight: 1, TTL: 30 });
    expect(standIn.getRecord(ZONE, 'api.example.com', 'CNAME', 'kubernetes')?.Weight).toBe(2);
  });

  it('refuses names outside the zone and a simple record next to a weighted set', async () => {
    const outside = await invalidBatch([{ Action: 'CREATE', ResourceRecordSet: cname('api.example.org', 'a', 1) }]);
    expect(outside.message).toBe('[RRSet with DNS name api.example.org. is not permitted in zone example.com.]');
    const mixed = await invalidBatch([{ Action: 'CREATE', ResourceRecordSet: { Name: 'api.example.com', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'x.example.net' }] } }]);
    expect(mixed.name).toBe('InvalidChangeBatch');
  });

  it('returns a pending change that GetChange reports INSYNC after the configured number of polls', async () => {
    standIn.pendingPolls = 2;
    const out = await change([{ Action: 'UPSERT', ResourceRecordSet: { ...current, Weight: 3 } }]);
    expect(out.ChangeInfo).toMatchObject({ Status: 'PENDING', Id: expect.stringMatching(/^\/change\/C[A-Z0-9]{13}$/) });
    expect(out.ChangeInfo?.SubmittedAt).toBeInstanceOf(Date);
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).ChangeInfo!.Status!);
    expect(statuses).toEqual(['PENDING', 'PENDING', 'INSYNC']);

    const err = await client.send(new GetChangeCommand({ Id: 'CNOSUCHCHANGE' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NoSuchChange', $metadata: { httpStatusCode: 404 } });
  });

  it('in the legacy InvalidChangeBatch shape, the SDK cannot name the error', async () => {
    standIn.invalidChangeBatchFormat = 'legacy';
    const err = await invalidBatch([{ Action: 'CREATE', ResourceRecordSet: current }]);
    expect(err.name).toBe('Unknown');
    expect((err as unknown as { Messages: unknown }).Messages).toEqual({
      Message: "Tried to create resource record set [name='api.example.com.', type='CNAME', set-identifier='ec2'] but it already exists",
    });
  });
});

describe('faults', () => {
  it('injects Throttling, PriorRequestNotComplete, ServiceUnavailable and AccessDenied with their statuses', async () => {
    standIn.failNext('ListResourceRecordSets', 'Throttling');
    standIn.failNext('*', 'PriorRequestNotComplete');
    standIn.failNext('ListResourceRecordSets', 'ServiceUnavailable');
    standIn.failNext('ListResourceRecordSets', 'AccessDenied');
    const seen = [];
    for (let i = 0; i < 5; i++) {
      const r = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE })).then(
        () => 'ok',
        (e: { name: string; message: string; $metadata: { httpStatusCode: number } }) => `${e.$metadata.httpStatusCode} ${e.name}: ${e.message.slice(0, 20)}`,
      );
      seen.push(r);
    }
    expect(seen).toEqual([
      '400 Throttling: Rate exceeded',
      '400 PriorRequestNotComplete: The request was reje',
      '503 ServiceUnavailable: Service Unavailable',
      '403 AccessDenied: User: arn:aws:iam::1',
      'ok',
    ]);
    expect(standIn.countCalls('ListResourceRecordSets')).toBe(5);
    expect(standIn.calls.map((c) => c.status)).toEqual([400, 400, 503, 403, 200]);
  });

  it('throttles beyond the token bucket and refills over time', async () => {
    standIn.rateLimit(5);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => client.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE })).then(() => 'ok', (e: Error) => e.name)),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    expect(results.filter((r) => r === 'Throttling')).toHaveLength(3);
    // A refused call takes no token, so polling does not delay the refill it waits for.
    await vi.waitFor(() => expect(client.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE }))).resolves.toBeDefined(), { timeout: 5_000, interval: 50 });
  });

  it('refuses unsigned requests and logs every call with its query', async () => {
    const res = await fetch(`${standIn.url}/2013-04-01/hostedzone/${ZONE}/rrset`);
    expect(res.status).toBe(403);
    await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: 'a.example.com', StartRecordType: 'A', MaxItems: 7 }));
    expect(standIn.calls.at(-1)).toMatchObject({ operation: 'ListResourceRecordSets', zoneId: ZONE, query: { name: 'a.example.com', type: 'A', maxitems: '7' } });
  });
});
