import { describe, expect, it } from 'vitest';
import type { Gate, GateReading } from '../../src/core/gate.js';
import { swappedFrom } from '../../src/core/pair-snapshot.js';
import type { RampPlan } from '../../src/core/ramp-plan.js';
import {
  addReadings,
  advance,
  afterSwap,
  bakeLeftMs,
  currentStepApplied,
  judge,
  lastSampledAt,
  pause,
  reserveChild,
  resume,
  rolledBack,
  startRollback,
  startRun,
  stepApplied,
} from '../../src/core/ramp-run.js';
import { snapshotOf } from './request-fixture.js';

const gate: Gate = { name: '5xx', prometheus: { url: 'http://p:9090', query: 'up' }, max: 0.05, failureLimit: 2 };
const plan: RampPlan = { steps: [20, 35], bakeMs: 10_000, onFailure: 'rollback', gates: [gate] };
const snap = snapshotOf({ kubernetes: 10, ec2: 90 });
const value = (v: number, at: number): GateReading => ({ gate: '5xx', at, kind: 'value', value: v, violates: v > 0.05 });
const unsure = (at: number): GateReading => ({ gate: '5xx', at, kind: 'inconclusive', reason: 'empty result' });

function baking(at = 1000) {
  return stepApplied(reserveChild(startRun(snap), 7), plan, 7, afterSwap(snap, { kubernetes: 20, ec2: 80 }), at);
}

describe('a ramp run', () => {
  it('reserves a step’s request once: a resumed worker finds the same number', () => {
    const run = reserveChild(startRun(snap), 7);
    expect(reserveChild(run, 8).childId).toBe(7);
  });

  it('a step applied starts its bake and becomes the compare of the next step', () => {
    const run = baking(1000);
    expect(run.phase).toBe('baking');
    expect(run.childId).toBeUndefined();
    expect(run.applied).toEqual([{ percent: 20, requestId: 7, at: 1000 }]);
    expect(swappedFrom(run.snapshot, snap, { kubernetes: 20, ec2: 80 })).toBe(true);
    expect(currentStepApplied(run)).toBe(true);
    // Recorded twice (a crash between the apply and this write): once.
    expect(stepApplied(run, plan, 7, run.snapshot, 2000)).toBe(run);
  });

  it('a bake resumed after a restart waits only the time left', () => {
    const run = baking(1000);
    expect(bakeLeftMs(run, plan, 1000)).toBe(10_000);
    expect(bakeLeftMs(run, plan, 7000)).toBe(4000);
    expect(bakeLeftMs(run, plan, 99_000)).toBe(0);
  });

  it('is healthy only on readings in bounds at the end; a breach is failureLimit violations in a row, at once', () => {
    let run = addReadings(baking(), [value(0.01, 1100)]);
    expect(judge(run, plan.gates, false).kind).toBe('pending');
    expect(judge(run, plan.gates, true).kind).toBe('healthy');
    run = addReadings(run, [value(0.2, 1200)]);
    expect(judge(run, plan.gates, false).kind).toBe('pending');
    run = addReadings(run, [value(0.3, 1300)]);
    expect(judge(run, plan.gates, false).kind).toBe('breach');
  });

  it('the same datapoint read twice (sampling faster than CloudWatch publishes) is one observation, not a run of violations', () => {
    const datapoint = (v: number, at: number, observedAt: number): GateReading => ({ ...value(v, at), observedAt } as GateReading);
    let run = addReadings(baking(), [datapoint(0.3, 1100, 60_000)]);
    run = addReadings(run, [datapoint(0.3, 1200, 60_000)]);
    run = addReadings(run, [datapoint(0.3, 1300, 60_000)]);
    expect(run.readings).toHaveLength(1);
    expect(judge(run, plan.gates, false).kind).toBe('pending');
    // The next period's datapoint is a second observation: now a breach.
    run = addReadings(run, [datapoint(0.3, 1400, 120_000)]);
    expect(judge(run, plan.gates, false).kind).toBe('breach');
  });

  it('no data is never healthy', () => {
    expect(judge(baking(), plan.gates, true).kind).toBe('inconclusive');
    expect(judge(addReadings(baking(), [value(0.01, 1100), unsure(1200)]), plan.gates, true).kind).toBe('inconclusive');
  });

  it('readings that come after a pause are dropped, and only the newest are kept', () => {
    const paused = pause(baking(), 'x');
    expect(addReadings(paused, [value(0.3, 1)])).toBe(paused);
    let run = baking();
    for (let i = 0; i < 100; i++) run = addReadings(run, [value(0.01, i)]);
    expect(run.readings.length).toBeLessThanOrEqual(30);
    expect(run.readings.at(-1)!.at).toBe(99);
  });

  it('advances to the next step, then is done after the last', () => {
    const next = advance(baking(), plan);
    expect(next).toMatchObject({ step: 1, phase: 'applying', readings: [] });
    expect(next.bakeStartedAt).toBeUndefined();
    expect(advance({ ...next, phase: 'baking' }, plan).phase).toBe('done');
  });

  it('Resume bakes an applied step again from now, and applies one that was not', () => {
    const resumed = resume(pause(addReadings(baking(), [value(0.3, 1)]), 'breach'), 50_000);
    expect(resumed).toMatchObject({ phase: 'baking', bakeStartedAt: 50_000, readings: [], step: 0 });
    expect(resumed.because).toBeUndefined();
    const stale = pause(startRun(snap), 'records changed', { rereadSnapshot: true });
    expect(resume(stale, 1)).toMatchObject({ phase: 'applying', rereadSnapshot: true });
  });

  it('Pause says who; a second pause keeps the first reason', () => {
    const p = pause(baking(), '', { by: 'U0BOB' });
    expect(p).toMatchObject({ phase: 'paused', pausedBy: 'U0BOB' });
    expect(pause(p, 'other')).toBe(p);
  });

  it('a step refused as stale while a click had paused the ramp still has the records read again on Resume', () => {
    const clicked = pause(baking(), '', { by: 'U0BOB' });
    const stale = pause(clicked, 'records changed', { rereadSnapshot: true });
    expect(stale).toMatchObject({ phase: 'paused', pausedBy: 'U0BOB', because: '', rereadSnapshot: true });
  });

  it('a bake remembers when its gates were last read; a bake started again after that starts afresh', () => {
    const run = addReadings(baking(1000), [value(0, 1500)], 1500);
    expect(lastSampledAt(run)).toBe(1500);
    expect(lastSampledAt(baking(1000))).toBe(0);
    expect(lastSampledAt(resume(pause(run, 'x'), 2000))).toBe(0);
  });

  it('Abort and a breach roll back; nothing pauses or aborts a rollback under way or an ended ramp', () => {
    const aborted = startRollback(baking(), { user: 'U0ALICE' }, 'aborted.');
    expect(aborted.phase).toBe('rolling-back');
    expect(pause(aborted, 'x')).toBe(aborted);
    expect(startRollback(aborted, { gate: '5xx' }, 'breach')).toBe(aborted);
    expect(rolledBack(aborted).phase).toBe('aborted');
    expect(rolledBack(startRollback(baking(), { gate: '5xx' }, 'breach')).phase).toBe('rolled-back');
    const done = advance(advance(baking(), plan), plan);
    expect(startRollback(done, { user: 'U0ALICE' }, 'late')).toBe(done);
  });
});
