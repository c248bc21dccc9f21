/**
 * A running ramp, as stored with its request. Pure: each function takes the run as it is in Redis
 * now and returns the next one, so the store applies it inside its optimistic transaction and a
 * click (Pause, Abort) and the worker can never overwrite each other's news.
 *
 * applying ─(step applied)→ baking ─(bake over, gates healthy)→ applying next … → done
 *    │                        ├─(breach, onFailure rollback)→ rolling back → rolled-back
 *    │                        ├─(breach, onFailure pause · inconclusive · Pause)→ paused ─(Resume)→ baking again
 *    └─(records changed out of band)→ paused ─(Resume)→ applying the same step from the records as they are
 * Abort, from any phase but the ends: rolling back → aborted.
 */
import type { Gate, GateReading } from './gate.js';
import type { PairSnapshot } from './ports.js';
import type { RampPlan } from './ramp-plan.js';
import type { Weights } from './split.js';

export type RampPhase = 'applying' | 'baking' | 'paused' | 'rolling-back' | 'done' | 'aborted' | 'rolled-back';

export interface GateState {
  /** The newest readings, oldest first (a few, for the breach report). */
  readonly recent: readonly GateReading[];
  /** Consecutive violating readings up to now; an inconclusive reading neither adds nor resets. */
  readonly violations: number;
}

export interface AppliedStep {
  readonly percent: number;
  /** The weight change request (a child of the ramp) that applied it. */
  readonly requestId: number;
  readonly at: number;
}

export interface RampRun {
  /** Index in plan.steps of the step being applied or baked. */
  readonly step: number;
  readonly phase: RampPhase;
  /** The records as the ramp last left them: the compare of the next step's compare-and-swap. */
  readonly snapshot: PairSnapshot;
  /** Set when a step is about to be applied, before its request exists: a crash in between is seen. */
  readonly childId?: number;
  readonly applied: readonly AppliedStep[];
  readonly bakeStartedAt?: number;
  readonly gates: Readonly<Record<string, GateState>>;
  /** Why it paused, or why it ended early. */
  readonly because?: string;
  /** After an out-of-band change: the next step starts from the records as they are then. */
  readonly rereadSnapshot?: boolean;
  /** Who clicked Abort, or the gate whose breach rolls the ramp back. */
  readonly stoppedBy?: { readonly user?: string; readonly gate?: string };
  /** The request that returns the service to its split before the ramp, once reserved. */
  readonly rollbackChildId?: number;
  /** Whether the thread was told of the breach or the end (said once, even across a crash). */
  readonly told?: boolean;
}

const KEEP_READINGS = 5;

export function startRun(snapshot: PairSnapshot): RampRun {
  return { step: 0, phase: 'applying', snapshot, applied: [], gates: {} };
}

export function isEnded(run: RampRun): boolean {
  return run.phase === 'done' || run.phase === 'aborted' || run.phase === 'rolled-back';
}

/** The step's request id is reserved (once; a resumed worker finds it and goes on with it). */
export function reserveChild(run: RampRun, childId: number): RampRun {
  return run.childId !== undefined ? run : { ...run, childId };
}

/** The weights after a compare-and-swap that changed nothing but the weights. */
export function afterSwap(s: PairSnapshot, to: Weights): PairSnapshot {
  return {
    ...s,
    kubernetes: { ...s.kubernetes, weight: to.kubernetes, record: { ...s.kubernetes.record, Weight: to.kubernetes } },
    ec2: { ...s.ec2, weight: to.ec2, record: { ...s.ec2.record, Weight: to.ec2 } },
  };
}

/** The current step landed; its bake starts, unless someone paused or aborted meanwhile. */
export function stepApplied(run: RampRun, plan: RampPlan, requestId: number, snapshot: PairSnapshot, at: number): RampRun {
  if (run.applied.some((a) => a.requestId === requestId)) return run;
  const applied = [...run.applied, { percent: plan.steps[run.step]!, requestId, at }];
  const { childId: _, rereadSnapshot: __, ...rest } = run;
  const next = { ...rest, applied, snapshot, gates: {} };
  return run.phase === 'applying' ? { ...next, phase: 'baking', bakeStartedAt: at } : next;
}

/** Whether the current step has been applied already (then a resume bakes it again rather than re-applying it). */
export function currentStepApplied(run: RampRun): boolean {
  return run.applied.length > run.step;
}

export function bakeLeftMs(run: RampRun, plan: RampPlan, now: number): number {
  return run.bakeStartedAt === undefined ? plan.bakeMs : Math.max(0, run.bakeStartedAt + plan.bakeMs - now);
}

/** Adds one round of readings; a breach is when a gate's consecutive violations reach its failureLimit. */
export function addReadings(run: RampRun, gates: readonly Gate[], readings: readonly GateReading[]): RampRun {
  const next: Record<string, GateState> = { ...run.gates };
  for (const reading of readings) {
    const gate = gates.find((g) => g.name === reading.gate);
    if (!gate) continue;
    const before = next[gate.name] ?? { recent: [], violations: 0 };
    const violations = reading.kind === 'inconclusive' ? before.violations : reading.violates ? before.violations + 1 : 0;
    next[gate.name] = { recent: [...before.recent, reading].slice(-KEEP_READINGS), violations };
  }
  return { ...run, gates: next };
}

export function breachedGate(run: RampRun, gates: readonly Gate[]): Gate | undefined {
  return gates.find((g) => (run.gates[g.name]?.violations ?? 0) >= g.failureLimit);
}

export type BakeVerdict = { readonly kind: 'healthy' } | { readonly kind: 'wait' } | { readonly kind: 'inconclusive'; readonly reason: string };

/**
 * The judgement once the bake time is over. No data is never healthy: a gate never read, or whose
 * newest reading is inconclusive, makes the verdict inconclusive. A gate whose newest reading
 * violates but has not yet made a breach is given more samples: it either recovers or breaches.
 */
export function bakeVerdict(run: RampRun, gates: readonly Gate[]): BakeVerdict {
  for (const g of gates) {
    const last = run.gates[g.name]?.recent.at(-1);
    if (last === undefined) return { kind: 'inconclusive', reason: `gate “${g.name}” has no reading yet` };
    if (last.kind === 'inconclusive') return { kind: 'inconclusive', reason: `gate “${g.name}” is inconclusive: ${last.reason}` };
  }
  for (const g of gates) {
    const last = run.gates[g.name]?.recent.at(-1);
    if (last?.kind === 'value' && last.violates) return { kind: 'wait' };
  }
  return { kind: 'healthy' };
}

/** After a healthy bake: on to the next step, or done after the last. */
export function advance(run: RampRun, plan: RampPlan): RampRun {
  const { bakeStartedAt: _, ...rest } = run;
  if (run.step + 1 >= plan.steps.length) return { ...rest, phase: 'done' };
  return { ...rest, step: run.step + 1, phase: 'applying', gates: {} };
}

export function pause(run: RampRun, because: string, opts: { rereadSnapshot?: boolean } = {}): RampRun {
  if (isEnded(run) || run.phase === 'rolling-back' || run.phase === 'paused') return run;
  const { bakeStartedAt: _, ...rest } = run;
  return { ...rest, phase: 'paused', because, ...(opts.rereadSnapshot ? { rereadSnapshot: true } : {}) };
}

/** Resume: a step already applied bakes again from now (fresh readings); one not yet applied is applied. */
export function resume(run: RampRun, now: number): RampRun {
  if (run.phase !== 'paused') return run;
  const { because: _, ...rest } = run;
  return currentStepApplied(run) ? { ...rest, phase: 'baking', bakeStartedAt: now, gates: {} } : { ...rest, phase: 'applying' };
}

/** Abort (a user) or a breach with onFailure rollback (a gate): back to the split before the ramp. */
export function startRollback(run: RampRun, by: { user?: string; gate?: string }, because: string): RampRun {
  if (isEnded(run) || run.phase === 'rolling-back') return run;
  const { bakeStartedAt: _, ...rest } = run;
  return { ...rest, phase: 'rolling-back', stoppedBy: by, because };
}

export function reserveRollback(run: RampRun, childId: number): RampRun {
  return run.rollbackChildId !== undefined ? run : { ...run, rollbackChildId: childId };
}

export function rolledBack(run: RampRun): RampRun {
  if (run.phase !== 'rolling-back') return run;
  return { ...run, phase: run.stoppedBy?.user !== undefined ? 'aborted' : 'rolled-back' };
}
