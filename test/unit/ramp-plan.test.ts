import { describe, expect, it } from 'vitest';
import { BadDuration, RampRefused } from '../../src/core/errors.js';
import type { Gate } from '../../src/core/gate.js';
import { buildRampPlan, describeSteps, type RampSettings } from '../../src/core/ramp-plan.js';

const gate: Gate = { name: '5xx', prometheus: { url: 'http://p:9090', query: 'up' }, max: 0.01, failureLimit: 2 };
const settings: RampSettings = { steps: [10, 25, 50, 75, 100], bakeMs: 900_000, onFailure: 'rollback', gates: [gate], allowWithoutGates: false };

function refusal(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal');
}

describe('buildRampPlan', () => {
  it('takes the configured plan', () => {
    expect(buildRampPlan('api', 0, 25, settings)).toEqual({ steps: [10, 25, 50, 75, 100], bakeMs: 900_000, onFailure: 'rollback', gates: [gate] });
  });

  it('inline steps and bake replace the configured ones but keep its gates and onFailure', () => {
    const plan = buildRampPlan('api', 10, 25, { ...settings, onFailure: 'pause' }, { steps: [20, 40, 60], bake: '10m' });
    expect(plan).toEqual({ steps: [20, 40, 60], bakeMs: 600_000, onFailure: 'pause', gates: [gate] });
  });

  it('ramps down as well as up', () => {
    expect(buildRampPlan('api', 60, 25, settings, { steps: [40, 20, 0] }).steps).toEqual([40, 20, 0]);
  });

  it('refuses steps that go backwards or stand still, saying which', () => {
    const e = refusal(() => buildRampPlan('api', 10, 25, settings, { steps: [30, 20, 50] }));
    expect(e).toBeInstanceOf(RampRefused);
    expect(e.message).toContain('Step 2 (20%) does not move on from 30%');
    expect(refusal(() => buildRampPlan('api', 10, 25, settings, { steps: [10, 20] })).message).toContain('Step 1 (10%) does not move on');
  });

  it('refuses a jump bigger than maxStep, with the largest allowed', () => {
    const e = refusal(() => buildRampPlan('api', 10, 25, settings, { steps: [30, 70] })) as RampRefused;
    expect(e.message).toContain('Step 2 jumps from 30% to 70%, more than `api`');
    expect(e.hint).toContain('largest allowed is 55%');
    expect(refusal(() => buildRampPlan('api', 0, 25, settings, { steps: [30] })).message).toContain('Step 1 jumps from 0% to 30%');
  });

  it('refuses a ramp that ends where the service already is', () => {
    expect(refusal(() => buildRampPlan('api', 100, 25, settings)).message).toContain('already sends 100% to Kubernetes');
  });

  it('refuses a bad bake with the duration parser’s reason', () => {
    const e = refusal(() => buildRampPlan('api', 0, 25, settings, { steps: [10], bake: '10x' }));
    expect(e).toBeInstanceOf(BadDuration);
  });

  it('holds an inline bake to the bounds of the config (1 s to 24 h)', () => {
    const e = refusal(() => buildRampPlan('api', 0, 25, settings, { steps: [10], bake: '1000h' }));
    expect(e).toBeInstanceOf(RampRefused);
    expect(e.message).toBe('`every 1000h` cannot be the bake of the ramp of `api`: a bake must be at most 24h (1000h was given).');
    expect(buildRampPlan('api', 0, 25, settings, { steps: [10], bake: '24h' }).bakeMs).toBe(86_400_000);
  });

  it('needs steps and a bake from somewhere', () => {
    expect(refusal(() => buildRampPlan('api', 0, 25, undefined)).message).toContain('has no ramp configured and no steps were given');
    expect(refusal(() => buildRampPlan('api', 0, 25, { ...settings, bakeMs: undefined })).message).toContain('Say how long each step');
  });

  it('no gates only when allowWithoutGates says so', () => {
    const e = refusal(() => buildRampPlan('api', 0, 25, { ...settings, gates: [] })) as RampRefused;
    expect(e.message).toContain('has no gates');
    expect(e.hint).toContain('allowWithoutGates: true');
    expect(refusal(() => buildRampPlan('api', 0, 25, undefined, { steps: [10], bake: '1m' })).message).toContain('has no gates');
    expect(buildRampPlan('api', 0, 25, { ...settings, gates: [], allowWithoutGates: true }).gates).toEqual([]);
  });

  it('describes the path from the split before', () => {
    expect(describeSteps(10, [25, 50])).toBe('10% → 25% → 50%');
  });
});
