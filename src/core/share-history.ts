/**
 * Each service's Kubernetes share over time, from the request history: the points the progress
 * report draws. Pure. Only changes that took effect count (applied); a change kind this file does
 * not know (a ramp, say) counts as long as it names its service and its target weights.
 */
import type { ChangeRequest } from './change-request.js';
import { splitFromWeights, type Weights } from './split.js';

export interface SharePoint {
  /** Epoch ms. */
  readonly at: number;
  readonly percent: number;
}

export interface ShareSeries {
  readonly service: string;
  /** Oldest first; the first point is the share before the first recorded change. */
  readonly points: readonly SharePoint[];
  /** Applied changes that make up the series. */
  readonly changes: number;
}

function isWeights(w: unknown): w is Weights {
  return typeof w === 'object' && w !== null && typeof (w as Weights).kubernetes === 'number' && typeof (w as Weights).ec2 === 'number';
}

interface Step {
  readonly service: string;
  readonly at: number;
  readonly from?: Weights;
  readonly to: Weights;
}

function stepOf(r: ChangeRequest): Step | undefined {
  if (r.status !== 'applied') return undefined;
  const c = r.change as { kind: string; service?: unknown; from?: unknown; to?: unknown };
  if (typeof c.service !== 'string' || !isWeights(c.to)) return undefined;
  return { service: c.service, at: r.finishedAt ?? r.decidedAt ?? r.requestedAt, to: c.to, ...(isWeights(c.from) ? { from: c.from } : {}) };
}

const pct = (w: Weights) => splitFromWeights(w).kubernetesPercent;

/**
 * @param history requests in any order (the store gives newest first)
 * @param services every configured service, in the order to show them; one without changes gets
 *   a flat line at `current` (its live share, when known) or no points at all
 * @param now where each line ends
 */
export function shareSeries(history: readonly ChangeRequest[], services: readonly string[], now: number, current: ReadonlyMap<string, number> = new Map()): ShareSeries[] {
  const steps = history.flatMap((r) => stepOf(r) ?? []).sort((a, b) => a.at - b.at);
  return services.map((service) => {
    const own = steps.filter((s) => s.service === service);
    const points: SharePoint[] = [];
    const first = own[0];
    if (first?.from) points.push({ at: first.at, percent: pct(first.from) });
    for (const s of own) points.push({ at: s.at, percent: pct(s.to) });
    const last = points[points.length - 1];
    const live = current.get(service);
    if (last) points.push({ at: Math.max(now, last.at), percent: live ?? last.percent });
    else if (live !== undefined) points.push({ at: now, percent: live });
    return { service, points, changes: own.length };
  });
}

function days(ms: number): string {
  const d = Math.round(ms / 86_400_000);
  if (d >= 1) return `${d} day${d === 1 ? '' : 's'}`;
  const h = Math.max(1, Math.round(ms / 3_600_000));
  return `${h} hour${h === 1 ? '' : 's'}`;
}

/** `api: 10% → 60% on Kubernetes in 3 changes over 14 days, last 2 days ago`. */
export function summaryLine(s: ShareSeries, now: number): string {
  const first = s.points[0];
  const last = s.points[s.points.length - 1];
  if (!first || !last) return `${s.service}: no change recorded and its live share is unknown`;
  if (s.changes === 0) return `${s.service}: ${last.percent}% on Kubernetes, unchanged in the recorded history`;
  const changed = s.points[s.points.length - 2] ?? first;
  const done = last.percent === 100 ? ' (fully on Kubernetes)' : '';
  return `${s.service}: ${first.percent}% → ${last.percent}% on Kubernetes${done} in ${s.changes} change${s.changes === 1 ? '' : 's'} over ${days(last.at - first.at)}, last ${days(now - changed.at)} ago`;
}
