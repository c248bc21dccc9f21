/**
 * Ports: what the domain needs from the outside world, named for the domain, not the vendor.
 * Adapters in src/adapters implement them and translate vendor errors into the typed errors
 * of ./errors.ts (StaleChange, NotFound, Forbidden, Throttled, Unreachable, InvalidRecords).
 */
import type { ChangeRequest } from './change-request.js';
import type { AlertRef, DriftAction, DriftState } from './drift.js';
import type { Weights } from './split.js';

// ---------------------------------------------------------------- Route 53 weighted pairs

/** Where a service's two weighted records live (straight from config). */
export interface WeightedPairTarget {
  readonly hostedZoneId: string;
  /** As configured, with or without the trailing dot. */
  readonly recordName: string;
  readonly recordType: 'A' | 'AAAA' | 'CNAME';
  readonly kubernetesSetIdentifier: string;
  readonly ec2SetIdentifier: string;
}

export interface WeightedRecordSnapshot {
  readonly setIdentifier: string;
  readonly weight: number;
  /**
   * The record exactly as Route 53 returned it, as plain JSON (SDK ResourceRecordSet shape).
   * Stored with a request so the worker can DELETE precisely what the requester saw.
   */
  readonly record: Record<string, unknown>;
}

export interface PairSnapshot {
  readonly kubernetes: WeightedRecordSnapshot;
  readonly ec2: WeightedRecordSnapshot;
  /** TTL in seconds of non-alias records; null for alias records (the target's TTL applies). */
  readonly ttl: number | null;
}

export interface WeightedPair {
  /**
   * Reads the pair afresh (never a read shared with another caller): what a compare-and-swap
   * starts from. InvalidRecords if either record is missing or not weighted.
   */
  read(target: WeightedPairTarget): Promise<PairSnapshot>;
  /**
   * Reads many pairs with one paginated listing per hosted zone (not one call per service). For
   * display: concurrent callers share a zone's listing while it is in flight, never after.
   * Each key of the result is the index of the target in `targets`; a failed read is an Error.
   */
  readMany(targets: readonly WeightedPairTarget[]): Promise<Array<PairSnapshot | Error>>;
  /**
   * Compare-and-swap: one ChangeBatch that DELETEs both records exactly as in `expected` and
   * CREATEs them with the new weights (everything else unchanged). StaleChange if Route 53
   * refuses because the records are no longer as expected; nothing is applied then.
   */
  swap(target: WeightedPairTarget, expected: PairSnapshot, weights: Weights): Promise<{ changeId: string }>;
  /** Resolves once GetChange reports INSYNC; Unreachable if it does not within the timeout. */
  waitInSync(changeId: string, opts?: { timeoutMs?: number }): Promise<void>;
}

// ---------------------------------------------------------------- Kubernetes CronJobs

export interface KubeObjectRef {
  readonly namespace: string;
  readonly name: string;
}

export interface CronJobState {
  readonly suspended: boolean;
  readonly schedule: string;
  readonly timeZone: string | null;
  readonly lastScheduleTime: Date | null;
  readonly resourceVersion: string;
  /** Names of the Jobs the CronJob reports as active. */
  readonly active: readonly string[];
}

export interface JobSummary {
  readonly name: string;
  readonly createdAt: Date;
  readonly outcome: 'running' | 'succeeded' | 'failed';
}

export interface CronPlacement {
  /** NotFound if the CronJob does not exist, Forbidden on 403, Unreachable if the API server is down. */
  read(ref: KubeObjectRef): Promise<CronJobState>;
  /** Merge-patches spec.suspend (never creates or deletes) and returns the state read back. */
  setSuspended(ref: KubeObjectRef, suspended: boolean): Promise<CronJobState>;
  /** Jobs owned by the CronJob created at or after `since`, oldest first. */
  jobsSince(ref: KubeObjectRef, since: Date): Promise<JobSummary[]>;
}

/** Reads a memcache lock: the holder named by the key's value, or null when free. */
export interface LockReader {
  holder(key: string): Promise<string | null>;
}

// ---------------------------------------------------------------- versions

export interface VersionReading {
  readonly version: string;
  /** Set while a Deployment is mid-rollout (updated replicas < replicas): the version it moves to. */
  readonly rollingTo?: string;
}

export interface VersionSource {
  /** Human description for messages, e.g. "Deployment api/api container api" or the URL. */
  readonly description: string;
  /** Unreachable / NotFound / InvalidRecords with a readable message when it cannot be read. */
  read(): Promise<VersionReading>;
}

// ---------------------------------------------------------------- what people see

/**
 * Where the worker shows people what it did. The queue decides what happened; an implementation
 * (Slack's, in src/slack) decides how it reads and where it goes. Showing never throws: a chat
 * outage must not undo or hold up a change that already happened, so failures are logged there.
 */
export interface RequestDisplay {
  /** The request's state as it is now, on its approval message (nothing before it has one). */
  showRequest(r: ChangeRequest): Promise<void>;
  /** What a cron job's next run after a move showed, under the request's approval message. */
  showWitness(r: ChangeRequest, witness: CronWitness): Promise<void>;
}

export interface CronWitness {
  /** Jobs the CronJob created since the run the move was proven by, newest first. */
  readonly jobs: readonly JobSummary[];
  /** Who holds the job's memcache lock now; null when free, undefined when it could not be read. */
  readonly holder: string | null | undefined;
  readonly lockKey: string;
}

/** Version-drift alerts in the alert channel, for the drift check (src/queue/drift-check.ts). */
export interface DriftAnnouncer {
  /** Posts a new alert: where it went, or undefined when it could not be posted (the next check tries again). */
  alert(channel: string, state: DriftState, split: string | undefined, now: number): Promise<AlertRef | undefined>;
  /** A reminder in the thread of the episode's alert. */
  remind(alert: AlertRef, state: DriftState, now: number): Promise<void>;
  /** The episode is over: said in the alert's thread, and the alert itself marked resolved. */
  resolve(action: Extract<DriftAction, { type: 'resolve' }>, state: DriftState, now: number): Promise<void>;
}

// ---------------------------------------------------------------- time

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
