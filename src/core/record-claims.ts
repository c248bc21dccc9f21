/**
 * Records claimed by something else. external-dns marks each name it manages with a TXT record
 * (its "registry") whose value reads `"heritage=external-dns,external-dns/owner=…,…"`. If one
 * claims a name whose weights strangler moves, external-dns in sync mode would put its own
 * weights back: a fight nobody sees until traffic moves. Pure: the adapter lists the TXT records.
 */

export interface TxtRecord {
  /** Fully qualified, lower-case, with the trailing dot (as Route 53 lists names). */
  readonly name: string;
  /** The values as Route 53 lists them: each a quoted character string. */
  readonly values: readonly string[];
}

export interface RecordClaim {
  /** The TXT record's name, without the trailing dot. */
  readonly txtName: string;
  readonly owner: string | undefined;
  readonly resource: string | undefined;
}

function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/**
 * Where external-dns puts its ownership record for `recordName`: at the name itself (its old
 * format, still written next to the new one) and at `<type>-<name>` (the format since v0.12,
 * e.g. `a-api.example.com`, `cname-api.example.com`). A custom --txt-prefix or --txt-suffix moves
 * it elsewhere; those are not guessed.
 */
export function registryNames(recordName: string, recordType: string): string[] {
  const name = fqdn(recordName);
  return [name, `${recordType.toLowerCase()}-${name}`];
}

/** A TXT value's fields, with the quotes of the character string removed (`"a=b,c=d"`). */
function fields(value: string): Map<string, string> {
  const unquoted = value.replace(/^"|"$/g, '').replace(/" "/g, '');
  return new Map(
    unquoted.split(',').flatMap((part) => {
      const i = part.indexOf('=');
      return i > 0 ? [[part.slice(0, i).trim(), part.slice(i + 1).trim()] as [string, string]] : [];
    }),
  );
}

/** The external-dns ownership claims on a managed record, from the zone's TXT records. */
export function externalDnsClaims(recordName: string, recordType: string, txt: readonly TxtRecord[]): RecordClaim[] {
  const names = new Set(registryNames(recordName, recordType));
  const claims: RecordClaim[] = [];
  for (const t of txt) {
    if (!names.has(fqdn(t.name))) continue;
    for (const v of t.values) {
      const f = fields(v);
      if (f.get('heritage') !== 'external-dns') continue;
      claims.push({ txtName: fqdn(t.name).replace(/\.$/, ''), owner: f.get('external-dns/owner'), resource: f.get('external-dns/resource') });
    }
  }
  return claims;
}

/** `external-dns (owner default, resource service/api/api) through TXT a-api.example.com` */
export function describeClaim(c: RecordClaim): string {
  const about = [c.owner ? `owner ${c.owner}` : '', c.resource ? `resource ${c.resource}` : ''].filter(Boolean).join(', ');
  return `external-dns${about ? ` (${about})` : ''} through TXT ${c.txtName}`;
}

/** Reads ownership claims on managed records (Route 53's TXT records, in src/adapters). */
export interface RecordClaimsReader {
  /**
   * The claims on each target's record name, one listing per hosted zone. An Error in place of a
   * target's claims when its zone could not be listed.
   */
  claims(targets: ReadonlyArray<{ readonly hostedZoneId: string; readonly recordName: string; readonly recordType: string }>): Promise<Array<RecordClaim[] | Error>>;
}
