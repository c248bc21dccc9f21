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
import { type Gate, type GateReading, READINGS_KEPT_PER_GATE } from './gate.js';
import { type GateVerdict, gateVerdict } from './gate-verdict.js';
import type { PairSnapshot } from './ports.js';
import type { RampPlan } from './ramp-plan.js';
import type { Weights } from './split.js';

export type RampPhase = 'applying' | 'baking' | 'paused' | 'rolling-back' | 'done' | 'aborted' | 'rolled-back';

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
  /** The current bake's readings, oldest first (the newest few per gate). */
  readonly readings: readonly GateReading[];
  /** Why it paused, or why it ended early. */
  readonly because?: string;
  /** After an out-of-band change: the next step starts from the records as they are then. */
  readonly rereadSnapshot?: boolean;
  /** Who clicked Pause (then `because` is empty). */
  readonly pausedBy?: string;
  /** Who clicked Abort, or the gate whose breach rolls the ramp back. */
  readonly stoppedBy?: { readonly user?: string; readonly gate?: string };
  /** The request that returns the service to its split before the ramp, once reserved. */
  readonly rollbackChildId?: number;
  /** Why the last try at returning to the old split failed (it is tried again): said once per reason. */
  readonly rollbackTrouble?: string;
  /** When the gates were last read: the bake is waited out by a delayed job, not in memory. */
  readonly sampledAt?: number;
}

/** Per gate: enough for any failureLimit worth having, small enough for one Redis value. */

export function startRun(snapshot: PairSnapshot): RampRun {
  return { step: 0, phase: 'applying', snapshot, applied: [], readings: [] };
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
  const next = { ...rest, applied, snapshot, readings: [] };
  return run.phase === 'applying' ? { ...next, phase: 'baking', bakeStartedAt: at } : next;
}

/** Whether the current step has been applied already (then a resume bakes it again rather than re-applying it). */
export function currentStepApplied(run: RampRun): boolean {
  return run.applied.length > run.step;
}

export function bakeLeftMs(run: RampRun, plan: RampPlan, now: number): number {
  return run.bakeStartedAt === undefined ? plan.bakeMs : Math.max(0, run.bakeStartedAt + plan.bakeMs - now);
}

/** The gate's newest reading is a value of the very same datapoint (see GateReading.observedAt). */
function sameObservation(readings: readonly GateReading[], r: GateReading): boolean {
  if (r.kind !== 'value' || r.observedAt === undefined) return false;
  const last = readings.findLast((x) => x.gate === r.gate);
  return last?.kind === 'value' && last.observedAt === r.observedAt;
}

/** Adds one round of readings (kept only while baking: a late round after a pause or abort is dropped). */
export function addReadings(run: RampRun, readings: readonly GateReading[], at?: number): RampRun {
  if (run.phase !== 'baking') return run;
  const all = [...run.readings];
  for (const r of readings) if (!sameObservation(all, r)) all.push(r);
  const counts = new Map<string, number>();
  const kept: GateReading[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const r = all[i]!;
    const n = counts.get(r.gate) ?? 0;
    if (n < READINGS_KEPT_PER_GATE) kept.unshift(r);
    counts.set(r.gate, n + 1);
  }
  return { ...run, readings: kept, ...(at !== undefined ? { sampledAt: at } : {}) };
}

/** When this bake's gates were last read; 0 when not yet (a resumed bake starts afresh). */
export function lastSampledAt(run: RampRun): number {
  return run.sampledAt !== undefined && run.bakeStartedAt !== undefined && run.sampledAt >= run.bakeStartedAt ? run.sampledAt : 0;
}

/** The gates' verdict on this bake: `final` once its time is over (then no data is inconclusive, never healthy). */
export function judge(run: RampRun, gates: readonly Gate[], final: boolean): GateVerdict {
  return gateVerdict(gates, run.readings, { final });
}

/** After a healthy bake: on to the next step, or done after the last. */
export function advance(run: RampRun, plan: RampPlan): RampRun {
  const { bakeStartedAt: _, ...rest } = run;
  if (run.step + 1 >= plan.steps.length) return { ...rest, phase: 'done' };
  return { ...rest, step: run.step + 1, phase: 'applying', readings: [] };
}

export function pause(run: RampRun, because: string, opts: { rereadSnapshot?: boolean; by?: string } = {}): RampRun {
  // Paused already (a click got there first): the records still have to be read again on Resume.
  if (run.phase === 'paused' && opts.rereadSnapshot) return { ...run, rereadSnapshot: true };
  if (isEnded(run) || run.phase === 'rolling-back' || run.phase === 'paused') return run;
  const { bakeStartedAt: _, ...rest } = run;
  return { ...rest, phase: 'paused', because, ...(opts.rereadSnapshot ? { rereadSnapshot: true } : {}), ...(opts.by !== undefined ? { pausedBy: opts.by } : {}) };
}

/** Resume: a step already applied bakes again from now (fresh readings); one not yet applied is applied. */
export function resume(run: RampRun, now: number): RampRun {
  if (run.phase !== 'paused') return run;
  const { because: _, pausedBy: __, ...rest } = run;
  return currentStepApplied(run) ? { ...rest, phase: 'baking', bakeStartedAt: now, readings: [] } : { ...rest, phase: 'applying' };
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
