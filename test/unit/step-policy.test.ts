import { describe, expect, it } from 'vitest';
import { StepTooLarge } from '../../src/core/errors.js';
import { assertStepAllowed, largestAllowed } from '../../src/core/step-policy.js';

function stepError(from: number, to: number, maxStep: number): StepTooLarge {
  try {
    assertStepAllowed('api', from, to, maxStep);
  } catch (err) {
    expect(err).toBeInstanceOf(StepTooLarge);
    return err as StepTooLarge;
  }
  throw new Error('expected the step to be refused');
}

describe('step policy', () => {
  it.each([
    [10, 35, 25],
    [35, 10, 25],
    [0, 0, 25],
    [50, 51, 1],
    [0, 100, 100],
  ])('a move from %i%% to %i%% with maxStep %i is allowed', (from, to, max) => {
    expect(() => assertStepAllowed('api', from, to, max)).not.toThrow();
  });

  it('a step one point over the limit is refused with the step size, the limit and the largest allowed target', () => {
    const err = stepError(10, 36, 25);
    expect(err.code).toBe('STEP_TOO_LARGE');
    expect(err.message).toBe('Moving `api` from 10% to 36% on Kubernetes is a step of 26 points; the limit for this service is 25.');
    expect(err.largestAllowed).toBe(35);
    expect(err.hint).toBe('Largest allowed: 35. Move in steps, e.g. `/strangle api 35`.');
  });

  it('a step down suggests the lowest allowed value', () => {
    const err = stepError(60, 0, 25);
    expect(err.message).toContain('a step of 60 points');
    expect(err.largestAllowed).toBe(35);
  });

  it('largestAllowed stays within 0..100', () => {
    expect(largestAllowed(90, 100, 25)).toBe(100);
    expect(largestAllowed(10, 0, 25)).toBe(0);
    expect(largestAllowed(50, 80, 10)).toBe(60);
    expect(largestAllowed(50, 20, 10)).toBe(40);
  });

  it('from a 0/0 pair (served 50/50) the step is measured from 50', () => {
    const err = stepError(50, 100, 25);
    expect(err.largestAllowed).toBe(75);
  });
});
