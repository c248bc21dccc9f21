/**
 * The WeightedPair port on Route 53. A swap is a compare-and-swap: one ChangeBatch that DELETEs
 * both records exactly as they were read and CREATEs them with new weights. Route 53 applies a
 * batch all-or-nothing and refuses a DELETE whose values differ from the live record, so an edit
 * made meanwhile (console, Terraform, external-dns) makes the whole batch fail and nothing moves.
 * UPSERT would silently overwrite such an edit, so it is never used.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type Route53ClientConfig,
  type RRType,
} from '@aws-sdk/client-route-53';
import {
  Forbidden,
  InvalidRecords,
  NotFound,
  StaleChange,
  StranglerError,
  Throttled,
  Unreachable,
  isRetryable,
} from '../core/errors.js';
import type { PairSnapshot, WeightedPair, WeightedPairTarget, WeightedRecordSnapshot } from '../core/ports.js';
import type { Weights } from '../core/split.js';

const PAGE_SIZE = 300;

export interface Route53WeightedPairOptions {
  /** Delay between GetChange polls while waiting for INSYNC (default 2000 ms). */
  pollIntervalMs?: number;
  /** How long waitInSync waits before giving up (default 180000 ms; Route 53 usually takes < 60 s). */
  syncTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * A Route53Client for the bot. Everything else comes from the SDK's default chain: credentials,
 * AWS_ENDPOINT_URL_ROUTE_53 / AWS_ENDPOINT_URL (read by the SDK for service id "Route 53"),
 * AWS_RETRY_MODE (default "standard").
 *
 * Retries: the SDK's standard strategy (@smithy/core retry) classes `Throttling` and
 * `PriorRequestNotComplete` as THROTTLING errors and retries them with full-jitter exponential
 * backoff from a 1 s base (capped at 20 s); 5xx and connection errors are TRANSIENT (50 ms base).
 * Its default of 3 attempts is too few against Route 53's shared 5 req/s account limit, hence 8
 * (overridable by `maxAttempts` or AWS_MAX_ATTEMPTS). Client errors such as InvalidChangeBatch
 * are never retried.
 */
export function createRoute53Client(config: Route53ClientConfig = {}): Route53Client {
  return new Route53Client({
    ...config,
    // Route 53 is global: the aws partition signs with us-east-1 whatever the region, so a
    // missing AWS_REGION should not stop the bot. China/GovCloud need AWS_REGION set.
    region: config.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
    maxAttempts: config.maxAttempts ?? (process.env['AWS_MAX_ATTEMPTS'] ? undefined : 8),
    // The SDK's default socket timeout is 300 s: a hung connection would leave a Slack user
    // waiting five minutes. Timeouts are TRANSIENT to the SDK, so they are retried first.
    requestHandler: config.requestHandler ?? { connectionTimeout: 5_000, socketTimeout: 30_000 },
  });
}

export class Route53WeightedPair implements WeightedPair {
  private readonly pollIntervalMs: number;
  private readonly syncTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** Zone listings in flight, by bare zone id: readMany callers share one (single-flight). */
  private readonly listings = new Map<string, Promise<Map<string, ResourceRecordSet[]>>>();

  constructor(
    private readonly client: Route53Client,
    opts: Route53WeightedPairOptions = {},
  ) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 180_000;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = opts.now ?? Date.now;
  }

  async read(target: WeightedPairTarget): Promise<PairSnapshot> {
    const name = fqdn(target.recordName);
    const rows: ResourceRecordSet[] = [];
    let start: { name: string; type: RRType; identifier?: string } | undefined = { name, type: target.recordType };
    try {
      // A weighted set is contiguous in the listing; stop as soon as the listing moves past it.
      while (start) {
        const page = await this.list(target.hostedZoneId, start);
        const sets = page.ResourceRecordSets ?? [];
        rows.push(...sets.filter((r) => sameName(r.Name, name) && r.Type === target.recordType));
        const last = sets[sets.length - 1];
        const stillInSet = last !== undefined && sameName(last.Name, name) && last.Type === target.recordType;
        start =
          page.IsTruncated && stillInSet && page.NextRecordName && sameName(page.NextRecordName, name) && page.NextRecordType === target.recordType
            ? { name, type: target.recordType, ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}) }
            : undefined;
      }
    } catch (err) {
      throw translateRoute53Error(err, { action: 'ListResourceRecordSets', zoneId: target.hostedZoneId, recordName: name });
    }
    return pairFrom(target, rows);
  }

  async readMany(targets: readonly WeightedPairTarget[]): Promise<Array<PairSnapshot | Error>> {
    const results: Array<PairSnapshot | Error> = new Array(targets.length);
    const byZone = new Map<string, number[]>();
    targets.forEach((t, i) => {
      const zone = bareZoneId(t.hostedZoneId);
      byZone.set(zone, [...(byZone.get(zone) ?? []), i]);
    });
    // Zones one after another: Route 53's rate limit is per account, shared with everyone else.
    for (const [zone, indexes] of byZone) {
      let bySet: Map<string, ResourceRecordSet[]>;
      try {
        bySet = await this.sharedListing(zone);
      } catch (err) {
        const error = translateRoute53Error(err, { action: 'ListResourceRecordSets', zoneId: zone });
        for (const i of indexes) results[i] = error;
        continue;
      }
      for (const i of indexes) {
        const t = targets[i]!;
        try {
          results[i] = pairFrom(t, bySet.get(setKey(fqdn(t.recordName), t.recordType)) ?? []);
        } catch (err) {
          results[i] = err instanceof Error ? err : new Error(String(err));
        }
      }
    }
    return results;
  }

  async swap(target: WeightedPairTarget, expected: PairSnapshot, weights: Weights): Promise<{ changeId: string }> {
    for (const w of [weights.kubernetes, weights.ec2]) {
      if (!Number.isInteger(w) || w < 0 || w > 255) throw new RangeError(`Route 53 weights are integers 0–255, got ${w}`);
    }
    // Both 0 is not "off" to Route 53: it serves the pair 50/50.
    if (weights.kubernetes === 0 && weights.ec2 === 0) throw new RangeError('refusing to write weights 0/0: Route 53 would split traffic 50/50');
    const name = displayName(target.recordName);
    const k8s = expectedRecord(target, expected.kubernetes, target.kubernetesSetIdentifier);
    const ec2 = expectedRecord(target, expected.ec2, target.ec2SetIdentifier);
    const changes: Change[] = [
      { Action: 'DELETE', ResourceRecordSet: k8s },
      { Action: 'DELETE', ResourceRecordSet: ec2 },
      { Action: 'CREATE', ResourceRecordSet: { ...k8s, Weight: weights.kubernetes } },
      { Action: 'CREATE', ResourceRecordSet: { ...ec2, Weight: weights.ec2 } },
    ];
    try {
      const out = await this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: target.hostedZoneId,
          ChangeBatch: { Comment: `strangler: ${name} k8s=${weights.kubernetes} ec2=${weights.ec2}`, Changes: changes },
        }),
      );
      const id = out.ChangeInfo?.Id;
      if (!id) throw new Error('Route 53 accepted the change but returned no change id');
      return { changeId: bareChangeId(id) };
    } catch (err) {
      throw translateRoute53Error(err, { action: 'ChangeResourceRecordSets', zoneId: target.hostedZoneId, recordName: name });
    }
  }

  async waitInSync(changeId: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? this.syncTimeoutMs;
    const id = bareChangeId(changeId);
    const deadline = this.now() + timeoutMs;
    for (;;) {
      try {
        const out = await this.client.send(new GetChangeCommand({ Id: id }));
        if (out.ChangeInfo?.Status === 'INSYNC') return;
      } catch (err) {
        const error = translateRoute53Error(err, { action: 'GetChange', changeId: id });
        // The change was accepted and will apply; a blip while polling is no reason to stop watching.
        if (!isRetryable(error)) throw error;
      }
      const left = deadline - this.now();
      if (left <= 0) {
        throw new Unreachable(
          `Route 53 has not confirmed change ${id} after ${Math.round(timeoutMs / 1000)} s; it may still apply. Check /strangle status.`,
        );
      }
      await this.sleep(Math.min(this.pollIntervalMs, left));
    }
  }

  private list(zoneId: string, start?: { name: string; type: RRType; identifier?: string }): Promise<ListResourceRecordSetsCommandOutput> {
    return this.client.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        MaxItems: PAGE_SIZE,
        ...(start ? { StartRecordName: start.name, StartRecordType: start.type } : {}),
        ...(start?.identifier ? { StartRecordIdentifier: start.identifier } : {}),
      }),
    );
  }

  /**
   * Joins the listing of `zone` already in flight, or starts one. Ten people typing `status` at
   * once then cost one listing rather than ten against the account's 5 requests a second. A
   * caller who joins may get records read up to one listing's duration before they asked;
   * nothing is kept once the listing settles, so the next caller lists afresh.
   */
  private sharedListing(zone: string): Promise<Map<string, ResourceRecordSet[]>> {
    let listing = this.listings.get(zone);
    if (!listing) {
      listing = this.listZone(zone).finally(() => this.listings.delete(zone));
      this.listings.set(zone, listing);
    }
    return listing;
  }

  /** The whole zone, grouped by name and type: one listing serves every service in the zone. */
  private async listZone(zoneId: string): Promise<Map<string, ResourceRecordSet[]>> {
    const bySet = new Map<string, ResourceRecordSet[]>();
    let start: { name: string; type: RRType; identifier?: string } | undefined;
    let first = true;
    while (first || start) {
      first = false;
      const page = await this.list(zoneId, start);
      for (const r of page.ResourceRecordSets ?? []) {
        if (!r.Name || !r.Type) continue;
        const key = setKey(fqdn(decodeName(r.Name)), r.Type);
        bySet.set(key, [...(bySet.get(key) ?? []), r]);
      }
      start =
        page.IsTruncated && page.NextRecordName && page.NextRecordType
          ? { name: page.NextRecordName, type: page.NextRecordType, ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}) }
          : undefined;
    }
    return bySet;
  }
}

// ---------------------------------------------------------------- snapshots

function pairFrom(target: WeightedPairTarget, rows: readonly ResourceRecordSet[]): PairSnapshot {
  const kubernetes = weighted(target, rows, target.kubernetesSetIdentifier);
  const ec2 = weighted(target, rows, target.ec2SetIdentifier);
  const ttl = (kubernetes.record['TTL'] ?? ec2.record['TTL'] ?? null) as number | null;
  return { kubernetes, ec2, ttl };
}

function weighted(target: WeightedPairTarget, rows: readonly ResourceRecordSet[], setIdentifier: string): WeightedRecordSnapshot {
  const name = displayName(target.recordName);
  const hint = 'strangler only changes the weights of two existing weighted records (Terraform creates them; see the README).';
  const row = rows.find((r) => r.SetIdentifier === setIdentifier);
  if (!row) {
    const found = rows.map((r) => r.SetIdentifier).filter((s): s is string => s !== undefined);
    const others = found.length ? ` (found: ${found.map((s) => `\`${s}\``).join(', ')})` : '';
    throw new InvalidRecords(
      `Hosted zone ${bareZoneId(target.hostedZoneId)} has no ${target.recordType} record ${name} with set identifier \`${setIdentifier}\`${others}.`,
      hint,
    );
  }
  if (typeof row.Weight !== 'number') {
    throw new InvalidRecords(`The ${target.recordType} record ${name} with set identifier \`${setIdentifier}\` is not weighted (it has no Weight).`, hint);
  }
  return { setIdentifier, weight: row.Weight, record: plainJson(row) };
}

/** Drops undefined fields and SDK class identity, so the record survives a JSON round trip unchanged. */
function plainJson(r: ResourceRecordSet): Record<string, unknown> {
  return JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
}

function expectedRecord(target: WeightedPairTarget, snap: WeightedRecordSnapshot, setIdentifier: string): ResourceRecordSet {
  const r = snap.record as unknown as ResourceRecordSet;
  if (r.SetIdentifier !== setIdentifier || !r.Name || !sameName(r.Name, fqdn(target.recordName)) || r.Type !== target.recordType) {
    throw new Error(`snapshot record ${String(r.Name)} ${String(r.Type)} ${String(r.SetIdentifier)} does not belong to ${target.recordName} ${setIdentifier}`);
  }
  return r;
}

// ---------------------------------------------------------------- names and ids

/** Route 53 returns names fully qualified and may escape characters as \ooo (e.g. \052 for *). */
function decodeName(name: string): string {
  return name.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && fqdn(decodeName(a)) === fqdn(b);
}

function displayName(name: string): string {
  return name.replace(/\.$/, '');
}

function setKey(name: string, type: string): string {
  return `${name} ${type}`;
}

function bareZoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, '');
}

function bareChangeId(id: string): string {
  return id.replace(/^\/change\//, '');
}

// ---------------------------------------------------------------- errors

export interface Route53ErrorContext {
  action: 'ListResourceRecordSets' | 'ChangeResourceRecordSets' | 'GetChange';
  zoneId?: string;
  recordName?: string;
  changeId?: string;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'PriorRequestNotComplete',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const FORBIDDEN = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'UnrecognizedClientException',
  'MissingAuthenticationToken',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'TimeoutError',
  'RequestTimeout',
]);
const STALE = /was not found|do not match the current values|already exists/;

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  messages?: unknown;
  Messages?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** The SDK's errors in domain terms; used by every method so the mapping lives in one place. */
export function translateRoute53Error(err: unknown, ctx: Route53ErrorContext): Error {
  if (err instanceof StranglerError || err instanceof RangeError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SdkErrorLike;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const zone = ctx.zoneId ? bareZoneId(ctx.zoneId) : undefined;
  const subject = ctx.recordName ? displayName(ctx.recordName) : zone ? `hosted zone ${zone}` : `change ${ctx.changeId ?? '?'}`;

  const batchProblems = invalidChangeBatchMessages(e);
  if (batchProblems) {
    if (batchProblems.some((m) => STALE.test(m))) {
      return new StaleChange(
        `The records for ${subject} changed since this request was made (someone edited them in the console or Terraform ran), so nothing was applied.`,
      );
    }
    return new InvalidRecords(`Route 53 refused the change to ${subject}: ${batchProblems.join('; ')}`);
  }
  if (THROTTLING.has(name) || status === 429) {
    const tries = attempts ? ` after ${attempts} attempts` : '';
    return new Throttled(`Route 53 kept throttling ${ctx.action} for ${subject} (${name})${tries}.`, err);
  }
  if (name === 'NoSuchHostedZone') {
    return new NotFound(`Route 53 has no hosted zone ${zone ?? '(none given)'}.`, 'Check `hostedZoneId` for this service in the config.');
  }
  if (name === 'NoSuchChange') {
    return new NotFound(`Route 53 has no change ${ctx.changeId ?? ''}.`);
  }
  if (FORBIDDEN.has(name) || status === 403) {
    return new Forbidden(
      `The bot's AWS identity may not call route53:${ctx.action}${zone ? ` on hosted zone ${zone}` : ''} (${name}).`,
      'Grant route53:ListResourceRecordSets, route53:ChangeResourceRecordSets and route53:GetChange (see the README).',
    );
  }
  if (name === 'CredentialsProviderError') {
    return new Forbidden('No AWS credentials were found for Route 53.', 'Give the bot credentials through the usual AWS chain (env, profile, IRSA, instance role).');
  }
  if ((status !== undefined && status >= 500) || NETWORK.has(e.code ?? '') || NETWORK.has(name)) {
    const detail = e.code ?? (status ? `HTTP ${status} ${name}` : name);
    return new Unreachable(`Could not reach Route 53 for ${ctx.action} on ${subject} (${detail}).`, err);
  }
  if (name === 'InvalidInput') {
    return new InvalidRecords(`Route 53 rejected ${ctx.action} for ${subject}: ${e.message ?? name}`);
  }
  return err instanceof Error ? err : new Error(e.message ?? String(err));
}

/**
 * Route 53 sends InvalidChangeBatch as a standard error whose Message lists the problems as
 * "[first, second]" and the SDK leaves `messages` empty; older responses used a root
 * <InvalidChangeBatch><Messages> element, which the SDK surfaces as name "Unknown" with the raw
 * `Messages` object. Both are read here.
 */
function invalidChangeBatchMessages(e: SdkErrorLike): string[] | null {
  if (e.name === 'InvalidChangeBatch') {
    if (Array.isArray(e.messages) && e.messages.length > 0) return e.messages.map(String);
    const text = (e.message ?? '').replace(/^\[/, '').replace(/\]$/, '');
    // Problems contain "[name='…', type='…']" themselves, so split only on ", " before a new sentence.
    return text.split(/, (?=[A-Z])/).filter(Boolean);
  }
  const legacy = e.Messages as { Message?: unknown } | undefined;
  if (e.name === 'Unknown' && legacy && typeof legacy === 'object' && legacy.Message !== undefined) {
    return ([] as unknown[]).concat(legacy.Message).map(String);
  }
  return null;
}
