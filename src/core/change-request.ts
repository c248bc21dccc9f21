/**
 * A change request and its life:
 * requested → approved | rejected | expired | cancelled → applying → applied | failed | stale.
 * Pure: every transition returns a new request or throws RequestClosed, so the store can run
 * them inside a Redis transaction and a double click can only ever win once.
 */
import type { Placement } from './command.js';
import { RequestClosed } from './errors.js';
import type { PairSnapshot } from './ports.js';
import type { RampPlan } from './ramp-plan.js';
import type { RampRun } from './ramp-run.js';
import type { Weights } from './split.js';

export type RequestStatus =
  | 'requested'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  | 'applying'
  | 'applied'
  | 'failed'
  | 'stale';

export const OPEN_STATUSES: readonly RequestStatus[] = ['requested', 'approved', 'applying'];

export type Change =
  | {
      readonly kind: 'weight';
      readonly service: string;
      readonly from: Weights;
      readonly to: Weights;
      /** Both records exactly as read when the request was made: the compare of the compare-and-swap. */
      readonly snapshot: PairSnapshot;
    }
  | {
      readonly kind: 'cron';
      readonly job: string;
      readonly from: Placement;
      readonly to: Placement;
    }
  | {
      /** A progressive ramp: each step is a child weight change; `from` is the split it returns to. */
      readonly kind: 'ramp';
      readonly service: string;
      readonly from: Weights;
      /** The records as read when the ramp was requested: the compare of its first step. */
      readonly snapshot: PairSnapshot;
      readonly plan: RampPlan;
    };

export interface MessageRef {
  readonly channel: string;
  readonly ts: string;
}

export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface ChangeRequest {
  readonly id: number;
  readonly change: Change;
  /** Set when this request puts back the state before request `rollbackOf`. */
  readonly rollbackOf?: number;
  readonly reason: string;
  readonly requestedBy: string;
  readonly requestedAt: number;
  readonly expiresAt: number;
  /** Where the command was typed. */
  readonly origin: { readonly channel: string };
  /** The approval message, once posted (or once clicked, if the click came first). */
  readonly message?: MessageRef;
  /**
   * Drawn at creation and carried by every button of the request's messages: a click names its
   * request without the bot having to know the message's ts yet. Absent on older requests.
   */
  readonly buttonKey?: string;
  readonly status: RequestStatus;
  readonly decidedBy?: string;
  readonly decidedAt?: number;
  readonly applyStartedAt?: number;
  readonly changeId?: string;
  readonly finishedAt?: number;
  /** For cron moves: the first scheduled run after the move, the one the witness reports on. */
  readonly witnessRunAt?: number;
  /** For cron moves: when the witness looks at what happened at that run. */
  readonly witnessAt?: number;
  /** Notes gathered while applying, e.g. "a run is in progress, lock held by ip-10-0-1-5". */
  readonly notes?: readonly string[];
  readonly failure?: Failure;
  /** A step (or the rollback) of ramp #rampOf: a weight change the ramp itself approved and runs. */
  readonly rampOf?: number;
  /** For ramps, once approved: where the ramp stands. */
  readonly ramp?: RampRun;
}

/** `service:api` or `cron:nightly-report`: the thing only one open request may target. */
export function targetKey(change: Change): string {
  return change.kind === 'cron' ? cronKey(change.job) : serviceKey(change.service);
}

export const serviceKey = (service: string): string => `service:${service}`;
export const cronKey = (job: string): string => `cron:${job}`;

export function targetName(change: Change): string {
  return change.kind === 'cron' ? change.job : change.service;
}

export function isOpen(r: ChangeRequest): boolean {
  return OPEN_STATUSES.includes(r.status);
}

/**
 * A change that may be in effect, so it can be rolled back: applied, or failed after Route 53
 * had already accepted its batch (e.g. GetChange refused), when the new split may well be live.
 */
export function isRollbackPoint(r: ChangeRequest): boolean {
  return r.status === 'applied' || (r.status === 'failed' && r.changeId !== undefined);
}

export function isRollback(r: ChangeRequest): boolean {
  return r.rollbackOf !== undefined;
}

function expect(r: ChangeRequest, allowed: readonly RequestStatus[]): void {
  if (!allowed.includes(r.status)) throw new RequestClosed(r.id, r.status);
}

export type Transition =
  | { readonly type: 'approve'; readonly by: string; readonly at: number }
  | { readonly type: 'reject'; readonly by: string; readonly at: number }
  | { readonly type: 'cancel'; readonly by: string; readonly at: number }
  | { readonly type: 'expire'; readonly at: number }
  | { readonly type: 'start'; readonly at: number }
  | { readonly type: 'submitted'; readonly changeId: string }
  | { readonly type: 'note'; readonly note: string }
  | { readonly type: 'witness'; readonly runAt: number; readonly at: number }
  | { readonly type: 'applied'; readonly at: number }
  | { readonly type: 'failed'; readonly at: number; readonly failure: Failure }
  | { readonly type: 'stale'; readonly at: number; readonly failure: Failure };

export function transition(r: ChangeRequest, t: Transition): ChangeRequest {
  switch (t.type) {
    case 'approve':
      expect(r, ['requested']);
      return { ...r, status: 'approved', decidedBy: t.by, decidedAt: t.at };
    case 'reject':
      expect(r, ['requested']);
      return { ...r, status: 'rejected', decidedBy: t.by, decidedAt: t.at, finishedAt: t.at };
    case 'cancel':
      expect(r, ['requested']);
      return { ...r, status: 'cancelled', decidedBy: t.by, decidedAt: t.at, finishedAt: t.at };
    case 'expire':
      expect(r, ['requested']);
      return { ...r, status: 'expired', finishedAt: t.at };
    case 'start':
      // Re-entering 'applying' is how a worker resumes a job another worker died in.
      expect(r, ['approved', 'applying']);
      return { ...r, status: 'applying', applyStartedAt: r.applyStartedAt ?? t.at };
    case 'submitted':
      expect(r, ['applying']);
      return { ...r, changeId: t.changeId };
    case 'note':
      expect(r, ['applying']);
      // A resumed apply may reach the same point twice; say each thing once.
      return (r.notes ?? []).includes(t.note) ? r : { ...r, notes: [...(r.notes ?? []), t.note] };
    case 'witness':
      expect(r, ['applying', 'applied']);
      return { ...r, witnessRunAt: t.runAt, witnessAt: t.at };
    case 'applied':
      expect(r, ['applying']);
      return { ...r, status: 'applied', finishedAt: t.at };
    case 'failed':
      expect(r, ['approved', 'applying']);
      return { ...r, status: 'failed', finishedAt: t.at, failure: t.failure };
    case 'stale':
      expect(r, ['approved', 'applying']);
      return { ...r, status: 'stale', finishedAt: t.at, failure: t.failure };
  }
}

/**
 * Records where the approval message is, unless it is known already. The poster and a click that
 * beat the poster's answer both report it; whichever comes first is kept, so a later report of a
 * duplicate post (a retried chat.postMessage) cannot move updates away from the message people see.
 */
export function withMessage(r: ChangeRequest, message: MessageRef | undefined): ChangeRequest {
  return r.message !== undefined || message === undefined ? r : { ...r, message };
}

/** Milliseconds from the approval click to the change being verified: what "took 41 s" means. */
export function applyDurationMs(r: ChangeRequest): number | undefined {
  const start = r.decidedAt ?? r.applyStartedAt;
  return start !== undefined && r.finishedAt !== undefined ? r.finishedAt - start : undefined;
}
