/**
 * Comparing Route 53 pairs for the compare-and-swap. A snapshot's `record` is the SDK's
 * ResourceRecordSet as plain JSON; only its `Weight` ever differs between before and after.
 */
import type { PairSnapshot } from './ports.js';
import type { Weights } from './split.js';

export function weightsOf(p: PairSnapshot): Weights {
  return { kubernetes: p.kubernetes.weight, ec2: p.ec2.weight };
}

/** Key-order-independent JSON, because records make a round trip through Redis. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function recordWithWeight(record: Record<string, unknown>, weight: number): Record<string, unknown> {
  return { ...record, Weight: weight };
}

/** Both records are exactly as in `expected`: the swap may go ahead. */
export function unchangedSince(current: PairSnapshot, expected: PairSnapshot): boolean {
  return (
    canonical(current.kubernetes.record) === canonical(expected.kubernetes.record) &&
    canonical(current.ec2.record) === canonical(expected.ec2.record)
  );
}

/** The records are `expected` with only the weights set to `to`: the swap already landed. */
export function swappedFrom(current: PairSnapshot, expected: PairSnapshot, to: Weights): boolean {
  return (
    canonical(current.kubernetes.record) === canonical(recordWithWeight(expected.kubernetes.record, to.kubernetes)) &&
    canonical(current.ec2.record) === canonical(recordWithWeight(expected.ec2.record, to.ec2))
  );
}
