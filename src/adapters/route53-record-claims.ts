/**
 * The RecordClaimsReader on Route 53: lists each hosted zone once (ListResourceRecordSets, the
 * only call; no extra permission) and keeps the TXT records, which is where external-dns writes
 * its ownership registry.
 */
import { ListResourceRecordSetsCommand, type Route53Client, type RRType } from '@aws-sdk/client-route-53';
import { externalDnsClaims, type RecordClaim, type RecordClaimsReader, type TxtRecord } from '../core/record-claims.js';
import { translateRoute53Error } from './route53-weighted-pair.js';

const PAGE_SIZE = 300;

function bareZoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, '');
}

/** Route 53 escapes some characters in names as \ooo (e.g. \052 for *). */
function decodeName(name: string): string {
  return name.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))).toLowerCase();
}

export class Route53RecordClaims implements RecordClaimsReader {
  constructor(private readonly client: Route53Client) {}

  async claims(targets: ReadonlyArray<{ hostedZoneId: string; recordName: string; recordType: string }>): Promise<Array<RecordClaim[] | Error>> {
    const zones = [...new Set(targets.map((t) => bareZoneId(t.hostedZoneId)))];
    const txtByZone = new Map<string, TxtRecord[] | Error>();
    // Zones one after another: Route 53's rate limit is per account, shared with everyone else.
    for (const zone of zones) {
      txtByZone.set(
        zone,
        await this.txtRecords(zone).catch((err: unknown) => translateRoute53Error(err, { action: 'ListResourceRecordSets', zoneId: zone })),
      );
    }
    return targets.map((t) => {
      const txt = txtByZone.get(bareZoneId(t.hostedZoneId))!;
      return txt instanceof Error ? txt : externalDnsClaims(t.recordName, t.recordType, txt);
    });
  }

  private async txtRecords(zoneId: string): Promise<TxtRecord[]> {
    const out: TxtRecord[] = [];
    let start: { name: string; type: RRType; identifier?: string } | undefined;
    do {
      const page = await this.client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          MaxItems: PAGE_SIZE,
          ...(start ? { StartRecordName: start.name, StartRecordType: start.type } : {}),
          ...(start?.identifier ? { StartRecordIdentifier: start.identifier } : {}),
        }),
      );
      for (const r of page.ResourceRecordSets ?? []) {
        if (r.Type !== 'TXT' || !r.Name) continue;
        out.push({ name: decodeName(r.Name), values: (r.ResourceRecords ?? []).map((v) => v.Value ?? '') });
      }
      start =
        page.IsTruncated && page.NextRecordName && page.NextRecordType
          ? { name: page.NextRecordName, type: page.NextRecordType, ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}) }
          : undefined;
    } while (start);
    return out;
  }
}
