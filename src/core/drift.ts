/**
 * Version drift between the two platforms, one service at a time. Pure: the previous state, the
 * two readings and the time go in; the next state and what to say in Slack come out.
 *
 * An episode starts when the versions differ ('drift') or a source cannot be read ('unknown').
 * It is only alerted once it outlasts the grace period (a deploy reaches one platform first),
 * then reminded every `remindEveryMs`, and resolved in the same thread when versions agree.
 */
import type { VersionReading } from './ports.js';

export type Reading = VersionReading | ReadFailure;

export interface DriftSettings {
  readonly graceMs: number;
  readonly remindEveryMs: number;
}

export type EpisodeKind = 'drift' | 'unknown';

export interface AlertRef {
  readonly channel: string;
  readonly ts: string;
}

/** A platform's last readable version and when it was first seen running it. */
export interface SeenVersion {
  readonly version: string;
  readonly since: number;
}

export interface DriftState {
  readonly service: string;
  readonly checkedAt: number;
  readonly kubernetes: Reading;
  readonly ec2: Reading;
  /**
   * Per platform, kept through unreadable checks so that a version endpoint blinking during a
   * deploy does not restart "since". Absent in states saved before it existed.
   */
  readonly seen?: { readonly kubernetes?: SeenVersion; readonly ec2?: SeenVersion };
  /** Absent while in sync. */
  readonly episode?: {
    readonly kind: EpisodeKind;
    readonly since: number;
    readonly alert?: AlertRef;
    readonly alertedAt?: number;
    readonly remindedAt?: number;
  };
}

export type DriftAction =
  | { readonly type: 'alert'; readonly kind: EpisodeKind }
  | { readonly type: 'remind'; readonly kind: EpisodeKind }
  /** The episode with an alert is over: `now` says how it ended (in sync, or the other kind). */
  | { readonly type: 'resolve'; readonly alert: AlertRef; readonly endedKind: EpisodeKind; readonly since: number; readonly now: 'in-sync' | EpisodeKind };

export type ReadFailure = { readonly error: string };

export function isError(r: Reading): r is ReadFailure {
  return 'error' in r;
}

export function classify(k: Reading, e: Reading): EpisodeKind | 'in-sync' {
  if (isError(k) || isError(e)) return 'unknown';
  return (k as VersionReading).version === (e as VersionReading).version ? 'in-sync' : 'drift';
}

export function evaluateDrift(
  prev: DriftState | undefined,
  service: string,
  kubernetes: Reading,
  ec2: Reading,
  now: number,
  s: DriftSettings,
): { next: DriftState; actions: DriftAction[] } {
  const kind = classify(kubernetes, ec2);
  const actions: DriftAction[] = [];
  const old = prev?.episode;
  const base = { service, checkedAt: now, kubernetes, ec2, seen: nextSeen(prev?.seen, kubernetes, ec2, now) };

  // The episode ends when versions agree or its kind changes; an alerted one is closed in its
  // thread. A source that turns unreadable during a drift does not end it: nothing says the
  // versions agree, and ending it would post a new alert for the same trouble later.
  const continues = old !== undefined && (old.kind === kind || (old.kind === 'drift' && kind === 'unknown'));
  if (old && !continues && old.alert) {
    actions.push({ type: 'resolve', alert: old.alert, endedKind: old.kind, since: old.since, now: kind });
  }
  if (kind === 'in-sync') return { next: base, actions };

  let episode = continues ? old : { kind, since: now };
  if (episode.alert === undefined) {
    if (now - episode.since >= s.graceMs) actions.push({ type: 'alert', kind: episode.kind });
  } else if (now - (episode.remindedAt ?? episode.alertedAt ?? episode.since) >= s.remindEveryMs) {
    actions.push({ type: 'remind', kind: episode.kind });
    episode = { ...episode, remindedAt: now };
  }
  return { next: { ...base, episode }, actions };
}

function seenOne(prev: SeenVersion | undefined, r: Reading, now: number): SeenVersion | undefined {
  if (isError(r)) return prev;
  return prev?.version === r.version ? prev : { version: r.version, since: now };
}

function nextSeen(prev: DriftState['seen'], kubernetes: Reading, ec2: Reading, now: number): NonNullable<DriftState['seen']> {
  const k = seenOne(prev?.kubernetes, kubernetes, now);
  const e = seenOne(prev?.ec2, ec2, now);
  return { ...(k ? { kubernetes: k } : {}), ...(e ? { ec2: e } : {}) };
}

/** Since when a platform has run the version it runs now; undefined while it cannot be read. */
export function runningSince(s: DriftState, side: 'kubernetes' | 'ec2'): number | undefined {
  const r = s[side];
  if (isError(r)) return undefined;
  const seen = s.seen?.[side];
  // A state saved before `seen` existed: the check that read it is the earliest we know of.
  return seen?.version === r.version ? seen.since : s.checkedAt;
}

/** Records where an alert was posted, once Slack has answered. */
export function withAlert(state: DriftState, alert: AlertRef, at: number): DriftState {
  if (!state.episode) return state;
  return { ...state, episode: { ...state.episode, alert, alertedAt: at } };
}
