/**
 * A Route 53 stand-in: an HTTP server speaking the REST/XML wire protocol the way
 * `@aws-sdk/client-route-53` sends and parses it, so the real SDK client runs unmodified
 * against it (`endpoint: standIn.url`). Only the three operations strangler uses are served:
 * ListResourceRecordSets, ChangeResourceRecordSets and GetChange.
 *
 * Wire details were checked against the SDK's own serde (client-route-53 dist-cjs schemas and
 * @aws-sdk/core AwsRestXmlProtocol) and against Route 53's documented behaviour:
 * - The SDK strips `/hostedzone/` and `/change/` prefixes from ids before building the path,
 *   and POSTs the change batch to `/2013-04-01/hostedzone/{Id}/rrset` (no trailing slash;
 *   the API reference writes one, so both are accepted).
 * - Errors are `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`;
 *   the SDK takes the error name from `Error.Code`.
 * - InvalidChangeBatch: Route 53 used to answer with a root `<InvalidChangeBatch><Messages>…`,
 *   but since 2024 sends the standard ErrorResponse whose Message is the list of problems as
 *   `[first, second]` (aws-sdk-kotlin#1433/#1435). With that shape the JS SDK yields
 *   `name === 'InvalidChangeBatch'`, `message === '[…]'` and an EMPTY `messages` array, so
 *   callers must read the message. The legacy shape is available (`invalidChangeBatchFormat:
 *   'legacy'`) to show what old responses do to the SDK: it surfaces as name `Unknown`.
 */
import { recordApiUse } from './api-usage.js';
import { text as readText } from 'node:stream/consumers';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listenOnLoopback } from './free-port.js';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const PAGE_CAP = 300;

export type Route53Operation = 'ListResourceRecordSets' | 'ChangeResourceRecordSets' | 'GetChange';
export type InjectedFault = 'Throttling' | 'PriorRequestNotComplete' | 'ServiceUnavailable' | 'AccessDenied';

/** The SDK's ResourceRecordSet JSON shape (the fields strangler meets; others pass through). */
export interface StandInRecord {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Weight?: number;
  TTL?: number;
  ResourceRecords?: Array<{ Value: string }>;
  AliasTarget?: { HostedZoneId: string; DNSName: string; EvaluateTargetHealth: boolean };
  HealthCheckId?: string;
  [field: string]: unknown;
}

export interface StandInCall {
  readonly operation: Route53Operation | 'Unknown';
  readonly zoneId: string | null;
  readonly changeId: string | null;
  readonly at: number;
  readonly query: Readonly<Record<string, string>>;
  /** HTTP status answered, filled in once the response is written. */
  status: number;
}

export interface AppliedChangeBatch {
  readonly id: string;
  readonly zoneId: string;
  readonly comment: string | undefined;
  readonly submittedAt: Date;
  readonly changes: ReadonlyArray<{ action: 'CREATE' | 'DELETE' | 'UPSERT'; record: StandInRecord }>;
}

export interface Route53StandInOptions {
  /** GetChange answers PENDING this many times per change before INSYNC (default 1). */
  pendingPolls?: number;
  latencyMs?: number;
  /** Token bucket refill per second (burst = same number); unset = unlimited. */
  rateLimitPerSecond?: number;
  invalidChangeBatchFormat?: 'current' | 'legacy';
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly messages: readonly string[] = [],
  ) {
    super(message);
  }
}

interface ChangeState {
  readonly id: string;
  readonly submittedAt: Date;
  readonly comment: string | undefined;
  polls: number;
}

interface Zone {
  readonly id: string;
  /** Apex with trailing dot when known; names outside it are refused like Route 53 does. */
  readonly name: string | null;
  records: Map<string, StandInRecord>;
}

export class Route53StandIn {
  readonly calls: StandInCall[] = [];
  readonly appliedBatches: AppliedChangeBatch[] = [];
  pendingPolls: number;
  latencyMs: number;
  invalidChangeBatchFormat: 'current' | 'legacy';

  private readonly zones = new Map<string, Zone>();
  private readonly changes = new Map<string, ChangeState>();
  private readonly faults: Array<{ operation: Route53Operation | '*'; code: InjectedFault; remaining: number }> = [];
  private bucket: { perSecond: number; burst: number; tokens: number; at: number } | null = null;
  private readonly holds: Array<{ operation: Route53Operation; reach: () => void; released: Promise<void> }> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    opts: Route53StandInOptions,
  ) {
    this.pendingPolls = opts.pendingPolls ?? 1;
    this.latencyMs = opts.latencyMs ?? 0;
    this.invalidChangeBatchFormat = opts.invalidChangeBatchFormat ?? 'current';
    if (opts.rateLimitPerSecond) this.rateLimit(opts.rateLimitPerSecond);
  }

  static async start(opts: Route53StandInOptions = {}): Promise<Route53StandIn> {
    let standIn: Route53StandIn | undefined;
    const server = createServer((req, res) => {
      standIn!.handle(req, res).catch(() => res.destroy());
    });
    const port = await listenOnLoopback(server);
    standIn = new Route53StandIn(server, `http://127.0.0.1:${port}`, opts);
    return standIn;
  }

  async close(): Promise<void> {
    // The SDK keeps sockets alive; without this close() would wait for them to idle out,
    // and a "closed" stand-in would still answer on the kept-alive socket.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- seeding and inspection

  /** With `apexName`, seeds the NS and SOA records every real zone has. */
  addZone(zoneId: string, apexName?: string): void {
    const id = bareId(zoneId);
    const name = apexName === undefined ? null : fqdn(apexName);
    const zone: Zone = { id, name, records: new Map() };
    this.zones.set(id, zone);
    if (name) {
      this.store(zone, {
        Name: name,
        Type: 'NS',
        TTL: 172800,
        ResourceRecords: [1, 2, 3, 4].map((n) => ({ Value: `ns-${n}.awsdns-${n}.example.` })),
      });
      this.store(zone, {
        Name: name,
        Type: 'SOA',
        TTL: 900,
        ResourceRecords: [{ Value: 'ns-1.awsdns-1.example. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400' }],
      });
    }
  }

  putRecord(zoneId: string, rrset: StandInRecord): void {
    this.store(this.zone(zoneId), rrset);
  }

  /** Every record of the zone in ListResourceRecordSets order, as copies. */
  records(zoneId: string): StandInRecord[] {
    return sortRecords([...this.zone(zoneId).records.values()]).map(clone);
  }

  getRecord(zoneId: string, name: string, type: string, setIdentifier?: string): StandInRecord | undefined {
    const rec = this.zone(zoneId).records.get(recordKey(fqdn(name), type, setIdentifier));
    return rec && clone(rec);
  }

  /** What someone editing the weight in the console does. */
  setWeight(zoneId: string, name: string, type: string, setIdentifier: string, weight: number): void {
    const rec = this.zone(zoneId).records.get(recordKey(fqdn(name), type, setIdentifier));
    if (!rec) throw new Error(`stand-in: no record ${name} ${type} ${setIdentifier}`);
    rec.Weight = weight;
  }

  // ---------------------------------------------------------------- fault injection

  /** The next `count` calls of `operation` ('*' = any) fail with `code` before being processed. */
  failNext(operation: Route53Operation | '*', code: InjectedFault, count = 1): void {
    this.faults.push({ operation, code, remaining: count });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /**
   * Holds the next call of `operation` before it is answered, until `release()`; it is answered
   * from the records as they are then. `reached` resolves once the call has arrived. Makes "while
   * a listing is in flight" a state a test can hold rather than a race it hopes to win.
   */
  holdNext(operation: Route53Operation): { reached: Promise<void>; release(): void } {
    let reach!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (reach = r));
    const released = new Promise<void>((r) => (release = r));
    this.holds.push({ operation, reach, released });
    return { reached, release };
  }

  /** Token bucket shared by all operations, like Route 53's per-account limit; null lifts it. */
  rateLimit(perSecond: number | null, burst = perSecond ?? 0): void {
    this.bucket = perSecond ? { perSecond, burst, tokens: burst, at: Date.now() } : null;
  }

  countCalls(operation?: Route53Operation): number {
    return operation ? this.calls.filter((c) => c.operation === operation).length : this.calls.length;
  }

  /**
   * Client sockets open to the stand-in, kept-alive ones included. Zero after a client process
   * died means every request it had sent has been read (and is in `calls`).
   */
  openConnections(): Promise<number> {
    return new Promise((resolve, reject) => this.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readText(req);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const route = matchRoute(req.method ?? 'GET', url.pathname);
    const call: StandInCall = {
      operation: route.operation,
      zoneId: route.zoneId,
      changeId: route.changeId,
      at: Date.now(),
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    this.calls.push(call);
    if (route.operation !== 'Unknown') recordApiUse(`route53 ${route.operation}`);
    const hold = this.holds.findIndex((h) => h.operation === route.operation);
    if (hold >= 0) {
      const [h] = this.holds.splice(hold, 1);
      h!.reach();
      await h!.released;
    }
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    let status = 200;
    let xml: string;
    try {
      if (!req.headers.authorization) {
        throw new HttpError(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
      }
      if (route.operation === 'Unknown') throw new HttpError(404, 'UnknownOperationException', `No route for ${req.method} ${url.pathname}`);
      this.injectFault(route.operation);
      this.takeToken();
      switch (route.operation) {
        case 'ListResourceRecordSets':
          xml = this.listResourceRecordSets(route.zoneId!, url.searchParams);
          break;
        case 'ChangeResourceRecordSets':
          xml = this.changeResourceRecordSets(route.zoneId!, body);
          break;
        case 'GetChange':
          xml = this.getChange(route.changeId!);
          break;
      }
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalFailure', String(err));
      status = e.status;
      xml = this.errorXml(e);
    }
    call.status = status;
    const requestId = randomUUID();
    res.writeHead(status, {
      'content-type': 'text/xml',
      'x-amzn-requestid': requestId,
      'content-length': Buffer.byteLength(xml),
    });
    res.end(xml);
  }

  private injectFault(operation: Route53Operation): void {
    const fault = this.faults.find((f) => f.remaining > 0 && (f.operation === '*' || f.operation === operation));
    if (!fault) return;
    fault.remaining -= 1;
    switch (fault.code) {
      case 'Throttling':
        throw new HttpError(400, 'Throttling', 'Rate exceeded');
      case 'PriorRequestNotComplete':
        throw new HttpError(400, 'PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.');
      case 'ServiceUnavailable':
        throw new HttpError(503, 'ServiceUnavailable', 'Service Unavailable');
      case 'AccessDenied':
        throw new HttpError(
          403,
          'AccessDenied',
          `User: arn:aws:iam::123456789012:user/strangler is not authorized to perform: route53:${operation} because no identity-based policy allows the route53:${operation} action`,
        );
    }
  }

  private takeToken(): void {
    const b = this.bucket;
    if (!b) return;
    const now = Date.now();
    b.tokens = Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.perSecond);
    b.at = now;
    if (b.tokens < 1) throw new HttpError(400, 'Throttling', 'Rate exceeded');
    b.tokens -= 1;
  }

  private errorXml(e: HttpError): string {
    const requestId = randomUUID();
    if (e.code === 'InvalidChangeBatch' && this.invalidChangeBatchFormat === 'legacy') {
      return (
        `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="${NS}"><Messages>` +
        e.messages.map((m) => el('Message', m)).join('') +
        `</Messages>${el('RequestId', requestId)}</InvalidChangeBatch>`
      );
    }
    const type = e.status >= 500 ? 'Receiver' : 'Sender';
    return (
      `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error>${el('Type', type)}${el('Code', e.code)}` +
      `${el('Message', e.message)}</Error>${el('RequestId', requestId)}</ErrorResponse>`
    );
  }

  // ---------------------------------------------------------------- operations

  private listResourceRecordSets(zoneId: string, q: URLSearchParams): string {
    const zone = this.zoneOr404(zoneId);
    const name = q.get('name');
    const type = q.get('type');
    const identifier = q.get('identifier');
    const maxRaw = q.get('maxitems');
    if (type !== null && name === null) throw invalidInput('The input is not valid: type requires name');
    if (identifier !== null && type === null) throw invalidInput('The input is not valid: identifier requires type');
    let max = PAGE_CAP;
    if (maxRaw !== null) {
      max = Number(maxRaw);
      if (!Number.isInteger(max) || max < 1) throw invalidInput(`Invalid value for maxitems: ${maxRaw}`);
      max = Math.min(max, PAGE_CAP);
    }

    const sorted = sortRecords([...zone.records.values()]);
    let start = 0;
    if (name !== null) {
      const from = { Name: fqdn(name), Type: type ?? '', SetIdentifier: identifier ?? '' };
      start = sorted.findIndex((r) => compareRecords(r, from, type === null ? 'name' : identifier === null ? 'type' : 'id') >= 0);
      if (start < 0) start = sorted.length;
    }
    const page = sorted.slice(start, start + max);
    const next = sorted[start + max];
    let xml = `<?xml version="1.0"?>\n<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>`;
    for (const r of page) xml += recordToXml(r);
    xml += `</ResourceRecordSets>${el('IsTruncated', String(next !== undefined))}`;
    if (next) {
      xml += el('NextRecordName', next.Name) + el('NextRecordType', next.Type);
      if (next.SetIdentifier !== undefined) xml += el('NextRecordIdentifier', next.SetIdentifier);
    }
    xml += `${el('MaxItems', String(max))}</ListResourceRecordSetsResponse>`;
    return xml;
  }

  private changeResourceRecordSets(zoneId: string, body: string): string {
    const zone = this.zoneOr404(zoneId);
    let root: XmlElement;
    try {
      root = parseXml(body);
    } catch (err) {
      throw new HttpError(400, 'MalformedInput', `Could not parse the request body: ${(err as Error).message}`);
    }
    const batch = child(root, 'ChangeBatch');
    if (root.name !== 'ChangeResourceRecordSetsRequest' || !batch) {
      throw new HttpError(400, 'MalformedInput', 'ChangeBatch is not valid, expected ChangeResourceRecordSetsRequest');
    }
    const comment = child(batch, 'Comment')?.text;
    const changes = children(child(batch, 'Changes'), 'Change').map((c) => {
      const action = child(c, 'Action')?.text ?? '';
      const rrsetEl = child(c, 'ResourceRecordSet');
      if (!['CREATE', 'DELETE', 'UPSERT'].includes(action) || !rrsetEl) {
        throw invalidInput(`Invalid request: Expected action CREATE, DELETE or UPSERT with a ResourceRecordSet, got '${action}'`);
      }
      return { action: action as 'CREATE' | 'DELETE' | 'UPSERT', record: normalizeRecord(xmlToRecord(rrsetEl)) };
    });
    if (changes.length === 0) throw invalidInput('ChangeBatch.Changes is empty');
    for (const { record } of changes) validateShape(record);

    // Applied to a copy and swapped in only when every change is valid: all or nothing.
    const working = new Map(zone.records);
    const problems: string[] = [];
    for (const { action, record } of changes) {
      const key = recordKey(record.Name, record.Type, record.SetIdentifier);
      const existing = working.get(key);
      const what = describe(record);
      if (zone.name && !(record.Name === zone.name || record.Name.endsWith(`.${zone.name}`))) {
        problems.push(`RRSet with DNS name ${record.Name} is not permitted in zone ${zone.name}`);
        continue;
      }
      if (action === 'DELETE') {
        if (!existing) problems.push(`Tried to delete resource record set ${what} but it was not found`);
        else if (!sameRecord(existing, record)) problems.push(`Tried to delete resource record set ${what} but the values provided do not match the current values`);
        else working.delete(key);
      } else if (action === 'CREATE' && existing) {
        problems.push(`Tried to create resource record set ${what} but it already exists`);
      } else {
        working.set(key, record);
      }
    }
    problems.push(...mixedSetProblems(working));
    if (problems.length > 0) throw new HttpError(400, 'InvalidChangeBatch', `[${problems.join(', ')}]`, problems);
    zone.records = working;

    const change: ChangeState = { id: newChangeId(), submittedAt: new Date(), comment, polls: 0 };
    this.changes.set(change.id, change);
    this.appliedBatches.push({ id: change.id, zoneId: zone.id, comment, submittedAt: change.submittedAt, changes: changes.map((c) => ({ ...c, record: clone(c.record) })) });
    return `<?xml version="1.0"?>\n<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfoXml(change, 'PENDING')}</ChangeResourceRecordSetsResponse>`;
  }

  private getChange(changeId: string): string {
    const change = this.changes.get(bareId(changeId));
    if (!change) throw new HttpError(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${changeId}`);
    change.polls += 1;
    const status = change.polls > this.pendingPolls ? 'INSYNC' : 'PENDING';
    return `<?xml version="1.0"?>\n<GetChangeResponse xmlns="${NS}">${changeInfoXml(change, status)}</GetChangeResponse>`;
  }

  // ---------------------------------------------------------------- helpers

  private zone(zoneId: string): Zone {
    const zone = this.zones.get(bareId(zoneId));
    if (!zone) throw new Error(`stand-in: no hosted zone ${zoneId}; call addZone first`);
    return zone;
  }

  private zoneOr404(zoneId: string): Zone {
    const zone = this.zones.get(bareId(zoneId));
    if (!zone) throw new HttpError(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${zoneId}`);
    return zone;
  }

  private store(zone: Zone, rrset: StandInRecord): void {
    const rec = normalizeRecord(clone(rrset));
    validateShape(rec);
    zone.records.set(recordKey(rec.Name, rec.Type, rec.SetIdentifier), rec);
  }
}

export function startRoute53StandIn(opts?: Route53StandInOptions): Promise<Route53StandIn> {
  return Route53StandIn.start(opts);
}

// ---------------------------------------------------------------- routing

function matchRoute(method: string, path: string): { operation: Route53Operation | 'Unknown'; zoneId: string | null; changeId: string | null } {
  const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(path);
  if (rrset) {
    const zoneId = decodeURIComponent(rrset[1]!);
    if (method === 'GET') return { operation: 'ListResourceRecordSets', zoneId, changeId: null };
    if (method === 'POST') return { operation: 'ChangeResourceRecordSets', zoneId, changeId: null };
  }
  const change = /^\/2013-04-01\/change\/([^/]+)$/.exec(path);
  if (change && method === 'GET') return { operation: 'GetChange', zoneId: null, changeId: decodeURIComponent(change[1]!) };
  return { operation: 'Unknown', zoneId: null, changeId: null };
}


// ---------------------------------------------------------------- records

function bareId(id: string): string {
  return id.replace(/^\/(hostedzone|change)\//, '');
}

/** Route 53 answers names lower-case and fully qualified whatever was sent. */
function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function recordKey(name: string, type: string, setIdentifier: string | undefined): string {
  return `${name}\u0000${type}\u0000${setIdentifier ?? ''}`;
}

function describe(r: StandInRecord): string {
  const id = r.SetIdentifier === undefined ? '' : `, set-identifier='${r.SetIdentifier}'`;
  return `[name='${r.Name}', type='${r.Type}'${id}]`;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function normalizeRecord(r: StandInRecord): StandInRecord {
  r.Name = fqdn(r.Name);
  if (r.AliasTarget) {
    r.AliasTarget = {
      HostedZoneId: bareId(r.AliasTarget.HostedZoneId),
      DNSName: fqdn(r.AliasTarget.DNSName),
      EvaluateTargetHealth: r.AliasTarget.EvaluateTargetHealth,
    };
  }
  return r;
}

function invalidInput(message: string): HttpError {
  return new HttpError(400, 'InvalidInput', message);
}

function validateShape(r: StandInRecord): void {
  if (!r.Name || !r.Type) throw invalidInput('Invalid request: Name and Type are required');
  const alias = r.AliasTarget !== undefined;
  if (alias && (r.TTL !== undefined || r.ResourceRecords !== undefined)) {
    throw invalidInput(`Invalid request: an alias record ${describe(r)} cannot have TTL or ResourceRecords`);
  }
  if (!alias && (r.TTL === undefined || !r.ResourceRecords?.length)) {
    throw invalidInput(`Invalid request: ${describe(r)} needs TTL and ResourceRecords, or an AliasTarget`);
  }
  if (r.Weight !== undefined && (!Number.isInteger(r.Weight) || r.Weight < 0 || r.Weight > 255)) {
    throw invalidInput(`Invalid request: Weight of ${describe(r)} must be an integer between 0 and 255`);
  }
  const routed = ['Weight', 'Region', 'GeoLocation', 'Failover', 'MultiValueAnswer', 'CidrRoutingConfig', 'GeoProximityLocation'].some((f) => r[f] !== undefined);
  if (routed !== (r.SetIdentifier !== undefined)) {
    throw invalidInput(`Invalid request: ${describe(r)} needs both a SetIdentifier and a routing policy such as Weight, or neither`);
  }
}

/** A simple record may not share its name and type with records that have set identifiers. */
function mixedSetProblems(records: Map<string, StandInRecord>): string[] {
  const groups = new Map<string, { simple: boolean; routed: boolean; name: string; type: string }>();
  for (const r of records.values()) {
    const k = `${r.Name}\u0000${r.Type}`;
    const g = groups.get(k) ?? { simple: false, routed: false, name: r.Name, type: r.Type };
    if (r.SetIdentifier === undefined) g.simple = true;
    else g.routed = true;
    groups.set(k, g);
  }
  return [...groups.values()]
    .filter((g) => g.simple && g.routed)
    .map((g) => `RRSet with DNS name ${g.name}, type ${g.type} cannot be created because a non-routed set exists with the same name and type`);
}

function canonical(r: StandInRecord): string {
  const c = clone(normalizeRecord(clone(r)));
  if (c.ResourceRecords) c.ResourceRecords = [...c.ResourceRecords].sort((a, b) => (a.Value < b.Value ? -1 : a.Value > b.Value ? 1 : 0));
  return JSON.stringify(sortKeysDeep(c));
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeysDeep((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** DELETE must repeat every field of the record exactly; value order does not matter. */
function sameRecord(a: StandInRecord, b: StandInRecord): boolean {
  return canonical(a) === canonical(b);
}

function reversedLabels(name: string): string[] {
  return name.replace(/\.$/, '').split('.').reverse();
}

function compareLabels(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Route 53's listing order: name with labels reversed (com.example.api), then type, then set identifier. */
function compareRecords(
  a: Pick<StandInRecord, 'Name' | 'Type' | 'SetIdentifier'>,
  b: Pick<StandInRecord, 'Name' | 'Type' | 'SetIdentifier'>,
  depth: 'name' | 'type' | 'id' = 'id',
): number {
  const byName = compareLabels(reversedLabels(a.Name), reversedLabels(b.Name));
  if (byName !== 0 || depth === 'name') return byName;
  const byType = cmp(a.Type, b.Type);
  if (byType !== 0 || depth === 'type') return byType;
  return cmp(a.SetIdentifier ?? '', b.SetIdentifier ?? '');
}

function sortRecords(records: StandInRecord[]): StandInRecord[] {
  return [...records].sort((a, b) => compareRecords(a, b));
}

function newChangeId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = 'C';
  for (let i = 0; i < 13; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return id;
}

// ---------------------------------------------------------------- XML

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function el(name: string, text: string): string {
  return `<${name}>${escapeXml(text)}</${name}>`;
}

function changeInfoXml(c: ChangeState, status: 'PENDING' | 'INSYNC'): string {
  const comment = c.comment === undefined ? '' : el('Comment', c.comment);
  return `<ChangeInfo>${el('Id', `/change/${c.id}`)}${el('Status', status)}${el('SubmittedAt', c.submittedAt.toISOString())}${comment}</ChangeInfo>`;
}

/** Field order of the ResourceRecordSet schema; list members and their item element names. */
const RECORD_FIELDS = [
  'Name', 'Type', 'SetIdentifier', 'Weight', 'Region', 'GeoLocation', 'Failover', 'MultiValueAnswer', 'TTL',
  'ResourceRecords', 'AliasTarget', 'HealthCheckId', 'TrafficPolicyInstanceId', 'CidrRoutingConfig', 'GeoProximityLocation',
];
const LISTS: Record<string, string> = { ResourceRecords: 'ResourceRecord' };
const NUMBERS = new Set(['Weight', 'TTL', 'Bias']);
const BOOLEANS = new Set(['EvaluateTargetHealth', 'MultiValueAnswer']);

function recordToXml(r: StandInRecord): string {
  const known = RECORD_FIELDS.filter((f) => r[f] !== undefined);
  const extra = Object.keys(r).filter((f) => !RECORD_FIELDS.includes(f) && r[f] !== undefined);
  return `<ResourceRecordSet>${[...known, ...extra].map((f) => valueToXml(f, r[f])).join('')}</ResourceRecordSet>`;
}

function valueToXml(name: string, v: unknown): string {
  if (Array.isArray(v)) {
    const item = LISTS[name] ?? 'member';
    return `<${name}>${v.map((x) => valueToXml(item, x)).join('')}</${name}>`;
  }
  if (v && typeof v === 'object') {
    return `<${name}>${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => valueToXml(k, x)).join('')}</${name}>`;
  }
  return el(name, String(v));
}

function xmlToRecord(e: XmlElement): StandInRecord {
  return xmlToValue(e) as StandInRecord;
}

function xmlToValue(e: XmlElement): unknown {
  const item = LISTS[e.name];
  if (item) return e.children.filter((c) => c.name === item).map(xmlToValue);
  if (e.children.length === 0) {
    if (NUMBERS.has(e.name)) return Number(e.text);
    if (BOOLEANS.has(e.name)) return e.text === 'true';
    return e.text;
  }
  return Object.fromEntries(e.children.map((c) => [c.name, xmlToValue(c)]));
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

function child(e: XmlElement | undefined, name: string): XmlElement | undefined {
  return e?.children.find((c) => c.name === name);
}

function children(e: XmlElement | undefined, name: string): XmlElement[] {
  return e ? e.children.filter((c) => c.name === name) : [];
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[ent]!;
  });
}

/** Enough XML for what the SDK sends: elements, text, entities; attributes are ignored. */
function parseXml(src: string): XmlElement {
  const body = src.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  for (const token of body.match(/<[^>]+>|[^<]+/g) ?? []) {
    if (token.startsWith('</')) {
      const name = token.slice(2, -1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`unexpected </${name}>`);
    } else if (token.startsWith('<')) {
      const selfClosing = token.endsWith('/>');
      const name = token.slice(1, selfClosing ? -2 : -1).trim().split(/\s/)[0]!;
      const node: XmlElement = { name, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(node);
      else if (root) throw new Error('more than one root element');
      else root = node;
      if (!selfClosing) stack.push(node);
    } else if (stack.length > 0) {
      stack[stack.length - 1]!.text += decodeEntities(token);
    } else if (token.trim()) {
      throw new Error('text outside the root element');
    }
  }
  if (!root || stack.length > 0) throw new Error('unterminated document');
  return root;
}

// ---------------------------------------------------------------- SDK retries for tests

/**
 * A `retryStrategy` for SDK clients in tests: the SDK's retry middleware still classifies each
 * error (Throttling and PriorRequestNotComplete as THROTTLING, 5xx and connection errors as
 * TRANSIENT); this only swaps the SDK's slow backoff (1 s base for throttling) for `backoffMs`.
 * Same decision as the SDK's StandardRetryStrategy: retry THROTTLING and TRANSIENT only.
 */
export function fastRetryStrategy(maxAttempts: number, backoffMs: (retry: number) => number = () => 5) {
  const token = (count: number, delay: number) => ({ getRetryCount: () => count, getRetryDelay: () => delay });
  return {
    mode: 'standard',
    acquireInitialRetryToken: async (_scope: string) => token(0, 0),
    refreshRetryTokenForRetry: async (previous: { getRetryCount(): number }, info: { errorType: string }) => {
      const count = previous.getRetryCount() + 1;
      if (count >= maxAttempts || (info.errorType !== 'THROTTLING' && info.errorType !== 'TRANSIENT')) {
        throw new Error('No retry token available');
      }
      return token(count, backoffMs(count));
    },
    recordSuccess: (_token: unknown) => {},
  };
}
