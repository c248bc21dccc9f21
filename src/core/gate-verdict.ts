/**
 * Judging a bake's gate readings. Pure: the ramp samples gates through a MetricReader during the
 * bake, collects the readings, and asks here what they mean.
 *
 * - breach: some gate's bound was violated on `failureLimit` consecutive samples of that gate.
 *   Decided as soon as it happens, so a ramp can roll back mid-bake.
 * - inconclusive (only when final): a gate has no reading, its last reading is inconclusive (no
 *   data, source unreachable or erroring), or its last samples violate the bound but fewer than
 *   `failureLimit` times in a row. Never taken as healthy: the ramp pauses and a person decides.
 * - healthy (only when final): every gate's last reading is a value within its bounds.
 * - pending (only while not final): nothing decided yet, keep baking.
 *
 * An inconclusive sample breaks a run of violations: it is not evidence of one, and a gate whose
 * source goes away ends inconclusive anyway unless it comes back within bounds.
 */
import type { Gate, GateReading } from './gate.js';

export interface GateProblem {
  readonly gate: string;
  /** A sentence naming the gate and what was seen, e.g. for the ramp message's thread. */
  readonly reason: string;
  /** The readings that make the problem: the violating run, or the last reading. */
  readonly readings: readonly GateReading[];
}

export type GateVerdict =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'pending' }
  /** `problems` lists every breached gate in the order of the gates; the first is the one to name. */
  | { readonly kind: 'breach'; readonly problems: readonly GateProblem[] }
  | { readonly kind: 'inconclusive'; readonly problems: readonly GateProblem[] };

/** Whether a value is outside the gate's bounds (above max or below min; equal to a bound is within). */
export function violatesBound(gate: Pick<Gate, 'min' | 'max'>, value: number): boolean {
  return (gate.max !== undefined && value > gate.max) || (gate.min !== undefined && value < gate.min);
}

/** The gate's bounds as people read them: "≤ 0.01", "≥ 0.99", "between 0.2 and 0.8". */
export function describeBound(gate: Pick<Gate, 'min' | 'max'>): string {
  if (gate.min !== undefined && gate.max !== undefined) return `between ${formatValue(gate.min)} and ${formatValue(gate.max)}`;
  if (gate.max !== undefined) return `≤ ${formatValue(gate.max)}`;
  if (gate.min !== undefined) return `≥ ${formatValue(gate.min)}`;
  return 'no bound';
}

/** A reading for a message: at most 4 significant digits, no exponent for ordinary ratios and latencies. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** One reading as a short phrase: "0.034 (above max 0.01)" or "inconclusive: empty result". */
export function describeReading(gate: Pick<Gate, 'min' | 'max'>, reading: GateReading): string {
  if (reading.kind === 'inconclusive') return `inconclusive: ${reading.reason}`;
  return `${formatValue(reading.value)}${whichSide(gate, reading.value)}`;
}

function whichSide(gate: Pick<Gate, 'min' | 'max'>, value: number): string {
  if (gate.max !== undefined && value > gate.max) return ` (above max ${formatValue(gate.max)})`;
  if (gate.min !== undefined && value < gate.min) return ` (below min ${formatValue(gate.min)})`;
  return '';
}

export function gateVerdict(gates: readonly Gate[], readings: readonly GateReading[], options: { final: boolean }): GateVerdict {
  const breaches: GateProblem[] = [];
  const unsure: GateProblem[] = [];
  for (const gate of gates) {
    const own = readings.filter((r) => r.gate === gate.name).sort((a, b) => a.at - b.at);
    const run = firstViolatingRun(gate, own);
    if (run) {
      breaches.push({ gate: gate.name, readings: run, reason: breachReason(gate, run) });
      continue;
    }
    const doubt = finalDoubt(gate, own);
    if (doubt) unsure.push(doubt);
  }
  if (breaches.length > 0) return { kind: 'breach', problems: breaches };
  if (!options.final) return { kind: 'pending' };
  if (unsure.length > 0) return { kind: 'inconclusive', problems: unsure };
  return { kind: 'healthy' };
}

/** The first `failureLimit` consecutive violating readings, if any. */
function firstViolatingRun(gate: Gate, own: readonly GateReading[]): GateReading[] | undefined {
  const limit = Math.max(1, gate.failureLimit);
  let run: GateReading[] = [];
  for (const r of own) {
    if (r.kind === 'value' && violatesBound(gate, r.value)) {
      run.push(r);
      if (run.length >= limit) return run;
    } else {
      run = [];
    }
  }
  return undefined;
}

function finalDoubt(gate: Gate, own: readonly GateReading[]): GateProblem | undefined {
  const last = own.at(-1);
  if (last === undefined) {
    return { gate: gate.name, readings: [], reason: `${gate.name}: no reading was taken during the bake, and no data is never taken as healthy` };
  }
  if (last.kind === 'inconclusive') {
    return { gate: gate.name, readings: [last], reason: `${gate.name}: ${last.reason}` };
  }
  let trailing = 0;
  for (let i = own.length - 1; i >= 0; i--) {
    const r = own[i]!;
    if (r.kind !== 'value' || !violatesBound(gate, r.value)) break;
    trailing++;
  }
  if (trailing === 0) return undefined;
  const tail = own.slice(own.length - trailing);
  return {
    gate: gate.name,
    readings: tail,
    reason:
      `${gate.name} is outside its bound (${describeBound(gate)}) on its last ${trailing === 1 ? 'sample' : `${trailing} samples`}: ` +
      `${tail.map((r) => describeReading(gate, r)).join(', ')}; ${gate.failureLimit} in a row make a breach, so it is neither a breach nor healthy yet`,
  };
}

function breachReason(gate: Gate, run: readonly GateReading[]): string {
  return (
    `${gate.name} breached its bound (${describeBound(gate)}) on ${run.length} consecutive ${run.length === 1 ? 'sample' : 'samples'}: ` +
    run.map((r) => describeReading(gate, r)).join(', ')
  );
}

/** The verdict as one or more sentences for Slack or the log; empty for healthy and pending. */
export function describeVerdict(verdict: GateVerdict): string {
  if (verdict.kind === 'healthy' || verdict.kind === 'pending') return '';
  return verdict.problems.map((p) => p.reason).join('\n');
}
