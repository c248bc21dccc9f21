/**
 * Out-of-band weight changes: someone (the console, Terraform, external-dns) changed a service's
 * weights without the bot. The check compares the live split with a baseline: the split the bot
 * last applied, an approver last accepted, or it first saw. Pure: the periodic check feeds it
 * readings and carries out the actions it returns.
 */
import type { AlertRef } from './drift.js';
import { StranglerError } from './errors.js';
import { splitFromWeights, type Weights } from './split.js';

/** Why the baseline is what it is; shown to people, so the words matter. */
export type BaselineSource = 'applied' | 'accepted' | 'first-seen';

export interface Baseline {
  readonly weights: Weights;
  readonly source: BaselineSource;
  readonly at: number;
  /** Who accepted it (source `accepted`). */
  readonly by?: string;
}

/** One stretch of time during which the live split differed from the baseline. */
export interface OutsideEpisode {
  /** Drawn when the episode starts; the alert's buttons carry it, so an old alert's click is refused. */
  readonly key: string;
  /** The baseline when the episode started: what Restore puts back. */
  readonly from: Weights;
  /** The live split as last seen. */
  readonly live: Weights;
  readonly since: number;
  /** When the live split last changed within the episode (differs from `since` once changed again). */
  readonly changedAt: number;
  readonly alert?: AlertRef;
}

export interface OutsideState {
  readonly service: string;
  readonly episode?: OutsideEpisode;
  readonly checkedAt: number;
}

export type OutsideAction =
  /** A new episode (or one whose alert could not be posted yet): post an alert. */
  | { readonly type: 'alert' }
  /** The live split changed again within the episode: update the alert in place. */
  | { readonly type: 'update'; readonly alert: AlertRef }
  /** The live split is back at the baseline: resolve the alert in place. */
  | { readonly type: 'resolve'; readonly episode: OutsideEpisode; readonly baseline: Baseline };

/**
 * Route 53 serves weight / sum, so 30/70 and 3/7 are the same traffic; both 0 is served equally,
 * like 1/1. Comparing shares rather than numbers keeps a harmless rewrite from raising an alert.
 */
export function sameShare(a: Weights, b: Weights): boolean {
  const norm = (w: Weights): Weights => (w.kubernetes === 0 && w.ec2 === 0 ? { kubernetes: 1, ec2: 1 } : w);
  const x = norm(a);
  const y = norm(b);
  return x.kubernetes * (y.kubernetes + y.ec2) === y.kubernetes * (x.kubernetes + x.ec2);
}

/** `30/70`: Kubernetes/EC2 percent, the short form alerts use. */
export function shortSplit(w: Weights): string {
  const s = splitFromWeights(w);
  return `${s.kubernetesPercent}/${s.ec2Percent}`;
}

/**
 * One reading of a service's live split against its baseline.
 * @param newKey draws an episode key (random in production, fixed in tests).
 */
export function evaluateOutside(
  prev: OutsideState | undefined,
  service: string,
  live: Weights,
  baseline: Baseline,
  now: number,
  newKey: () => string,
): { next: OutsideState; actions: OutsideAction[] } {
  const episode = prev?.episode;
  if (sameShare(live, baseline.weights)) {
    return { next: { service, checkedAt: now }, actions: episode ? [{ type: 'resolve', episode, baseline }] : [] };
  }
  if (!episode) {
    const started: OutsideEpisode = { key: newKey(), from: baseline.weights, live, since: now, changedAt: now };
    return { next: { service, episode: started, checkedAt: now }, actions: [{ type: 'alert' }] };
  }
  const changedAgain = !sameShare(live, episode.live);
  // The bot applied a request meanwhile (its baseline moved) while the split still differs:
  // Restore must offer the new baseline, not the one the episode started from.
  const baselineMoved = !sameShare(baseline.weights, episode.from);
  const next: OutsideEpisode = {
    ...episode,
    ...(changedAgain ? { live, changedAt: now } : {}),
    ...(baselineMoved ? { from: baseline.weights } : {}),
  };
  const state: OutsideState = { service, episode: next, checkedAt: now };
  // No alert yet: Slack refused the last post, so this tick tries again.
  if (!next.alert) return { next: state, actions: [{ type: 'alert' }] };
  return { next: state, actions: changedAgain || baselineMoved ? [{ type: 'update', alert: next.alert }] : [] };
}

export function withOutsideAlert(state: OutsideState, alert: AlertRef): OutsideState {
  return state.episode ? { ...state, episode: { ...state.episode, alert } } : state;
}

/** The alert's button was for an episode that is over (resolved, accepted) or was replaced. */
export class OutsideAlertOutdated extends StranglerError {
  constructor(service: string) {
    super('STALE_BUTTON', `This alert about \`${service}\` is out of date: the outside change it reported is over, so the click changed nothing.`, {
      hint: `See \`/strangle status ${service}\` for the split now.`,
    });
  }
}

/** What an Accept or Restore button carries: the service and the episode's key. */
export function outsideButtonValue(service: string, key: string): string {
  return `${service}.${key}`;
}

export function parseOutsideButtonValue(value: string | undefined): { service: string; key: string } | undefined {
  const m = /^([A-Za-z0-9][A-Za-z0-9_-]{0,62})\.([A-Za-z0-9_-]{1,64})$/.exec(value ?? '');
  return m ? { service: m[1]!, key: m[2]! } : undefined;
}

/** How an episode ended, for the alert's last update. */
export type OutsideEnd = { readonly type: 'returned'; readonly baseline: Baseline } | { readonly type: 'accepted'; readonly by: string; readonly live: Weights };

/** Outside-change alerts where people see them (Slack's alert channel); showing never throws. */
export interface OutsideAnnouncer {
  /** Posts the alert: where it went, or undefined when it could not be posted (the next check tries again). */
  alert(channel: string, service: string, episode: OutsideEpisode, now: number): Promise<AlertRef | undefined>;
  /** The split changed again: the alert is updated in place. */
  update(alert: AlertRef, service: string, episode: OutsideEpisode, now: number): Promise<void>;
  /** The episode is over: the alert is updated in place, without its buttons. */
  resolve(alert: AlertRef, service: string, episode: OutsideEpisode, end: OutsideEnd, now: number): Promise<void>;
}
