/**
 * The external-dns claims reader through the real SDK client against the Route 53 stand-in:
 * TXT records found wherever they fall in a paginated, sorted listing; one listing per zone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { createRoute53Client } from '../../src/adapters/route53-weighted-pair.js';
import { Route53RecordClaims } from '../../src/adapters/route53-record-claims.js';
import { Forbidden } from '../../src/core/errors.js';
import { fastRetryStrategy, startRoute53StandIn, type Route53StandIn } from '../support/route53-stand-in.js';

const ZONE = 'Z0CLAIMS01';
const OTHER = 'Z0CLAIMS02';
const OWNED = (resource: string) => `"heritage=external-dns,external-dns/owner=k8s-prod,external-dns/resource=${resource}"`;

let standIn: Route53StandIn;
let client: Route53Client;

beforeEach(async () => {
  standIn = await startRoute53StandIn();
  standIn.addZone(ZONE, 'example.com');
  standIn.addZone(OTHER, 'example.org');
  client = createRoute53Client({ endpoint: standIn.url, credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' }, retryStrategy: fastRetryStrategy(2) });
});

afterEach(async () => {
  client.destroy();
  await standIn.close();
});

const target = (recordName: string, hostedZoneId = ZONE, recordType = 'A') => ({ hostedZoneId, recordName, recordType });
const weighted = (name: string, id: string, weight: number) => ({ Name: name, Type: 'A', SetIdentifier: id, Weight: weight, TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] });

describe('Route53RecordClaims', () => {
  it('finds external-dns registry records across pages of a sorted listing, one listing per zone', async () => {
    // 400 unrelated names push the claims of api onto the second page.
    for (let i = 0; i < 400; i++) standIn.putRecord(ZONE, { Name: `host${String(i).padStart(3, '0')}.example.com`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"unrelated"' }] });
    standIn.putRecord(ZONE, weighted('api.example.com', 'kubernetes', 10));
    standIn.putRecord(ZONE, weighted('api.example.com', 'ec2', 90));
    // external-dns writes its TXT with the set identifier and weight of the record it owns.
    standIn.putRecord(ZONE, { Name: 'a-api.example.com', Type: 'TXT', SetIdentifier: 'kubernetes', Weight: 10, TTL: 300, ResourceRecords: [{ Value: OWNED('service/api/api') }] });
    standIn.putRecord(ZONE, { Name: 'api.example.com', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=spf1 -all"' }] });
    standIn.putRecord(ZONE, weighted('web.example.com', 'kubernetes', 0));
    standIn.putRecord(OTHER, { Name: 'shop.example.org', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: OWNED('ingress/shop/shop') }] });

    // The stand-in lists as Route 53 does: reversed labels, then type, then set identifier.
    const names = standIn.records(ZONE).map((r) => `${r.Name} ${r.Type}`);
    expect(names.indexOf('a-api.example.com. TXT')).toBeLessThan(names.indexOf('api.example.com. A'));
    expect(names.indexOf('api.example.com. A')).toBeLessThan(names.indexOf('api.example.com. TXT'));
    expect(names.indexOf('api.example.com. TXT')).toBeLessThan(names.indexOf('host000.example.com. TXT'));

    const claims = await new Route53RecordClaims(client).claims([target('api.example.com'), target('web.example.com'), target('shop.example.org', OTHER, 'CNAME'), target('API.example.com.')]);
    expect(claims).toEqual([
      [{ txtName: 'a-api.example.com', owner: 'k8s-prod', resource: 'service/api/api' }],
      [],
      [{ txtName: 'shop.example.org', owner: 'k8s-prod', resource: 'ingress/shop/shop' }],
      [{ txtName: 'a-api.example.com', owner: 'k8s-prod', resource: 'service/api/api' }],
    ]);
    const lists = standIn.calls.filter((c) => c.operation === 'ListResourceRecordSets');
    // ⌈(2 apex + 406) / 300⌉ = 2 pages for the first zone, 1 for the other.
    expect(lists.map((c) => c.zoneId)).toEqual([ZONE, ZONE, OTHER]);
  });

  it('gives an Error for the targets of a zone it may not list, and still reads the others', async () => {
    standIn.putRecord(OTHER, { Name: 'shop.example.org', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: OWNED('ingress/shop/shop') }] });
    standIn.failNext('ListResourceRecordSets', 'AccessDenied');
    const [api, shop] = await new Route53RecordClaims(client).claims([target('api.example.com'), target('shop.example.org', OTHER)]);
    expect(api).toBeInstanceOf(Forbidden);
    expect((api as Error).message).toContain('may not call route53:ListResourceRecordSets on hosted zone Z0CLAIMS01');
    expect(shop).toHaveLength(1);
  });
});
