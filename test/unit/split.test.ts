import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSplit, formatWeights, sameWeights, splitFromWeights, weightsForPercent } from '../../src/core/split.js';

describe('splitFromWeights', () => {
  it('weights that sum to 100 are shown exactly as they are', () => {
    expect(splitFromWeights({ kubernetes: 30, ec2: 70 })).toEqual({ kubernetesPercent: 30, ec2Percent: 70, bothZero: false, exact: true });
  });

  it('weights that do not sum to 100 are a share of their sum', () => {
    expect(splitFromWeights({ kubernetes: 3, ec2: 1 })).toEqual({ kubernetesPercent: 75, ec2Percent: 25, bothZero: false, exact: false });
    expect(splitFromWeights({ kubernetes: 255, ec2: 255 })).toMatchObject({ kubernetesPercent: 50, ec2Percent: 50, exact: false });
  });

  it('rounds the Kubernetes share and gives EC2 the remainder, so the two always add up to 100', () => {
    expect(splitFromWeights({ kubernetes: 1, ec2: 2 })).toMatchObject({ kubernetesPercent: 33, ec2Percent: 67 });
    expect(splitFromWeights({ kubernetes: 2, ec2: 1 })).toMatchObject({ kubernetesPercent: 67, ec2Percent: 33 });
    expect(splitFromWeights({ kubernetes: 1, ec2: 199 })).toMatchObject({ kubernetesPercent: 1, ec2Percent: 99 });
  });

  it('one side at 0 gets all or none of the traffic', () => {
    expect(splitFromWeights({ kubernetes: 0, ec2: 7 })).toMatchObject({ kubernetesPercent: 0, ec2Percent: 100, bothZero: false });
    expect(splitFromWeights({ kubernetes: 7, ec2: 0 })).toMatchObject({ kubernetesPercent: 100, ec2Percent: 0, bothZero: false });
  });

  it('0/0 is what Route 53 serves, 50/50, and is flagged so nobody reads it as "off"', () => {
    expect(splitFromWeights({ kubernetes: 0, ec2: 0 })).toEqual({ kubernetesPercent: 50, ec2Percent: 50, bothZero: true, exact: false });
  });

  it('for every pair of Route 53 weights the percentages are integers 0..100 adding up to 100', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (kubernetes, ec2) => {
        const s = splitFromWeights({ kubernetes, ec2 });
        expect(Number.isInteger(s.kubernetesPercent)).toBe(true);
        expect(s.kubernetesPercent + s.ec2Percent).toBe(100);
        expect(s.kubernetesPercent).toBeGreaterThanOrEqual(0);
        expect(s.kubernetesPercent).toBeLessThanOrEqual(100);
        expect(s.bothZero).toBe(kubernetes === 0 && ec2 === 0);
        expect(s.exact).toBe(kubernetes + ec2 === 100);
        if (s.exact) expect(s.kubernetesPercent).toBe(kubernetes);
      }),
    );
  });
});

describe('weightsForPercent', () => {
  it('writes N% as weights N and 100−N', () => {
    expect(weightsForPercent(30)).toEqual({ kubernetes: 30, ec2: 70 });
    expect(weightsForPercent(0)).toEqual({ kubernetes: 0, ec2: 100 });
    expect(weightsForPercent(100)).toEqual({ kubernetes: 100, ec2: 0 });
  });

  it('never produces 0/0 and round-trips through splitFromWeights for every percent', () => {
    for (let p = 0; p <= 100; p++) {
      const w = weightsForPercent(p);
      expect(w.kubernetes + w.ec2).toBe(100);
      expect(splitFromWeights(w)).toEqual({ kubernetesPercent: p, ec2Percent: 100 - p, bothZero: false, exact: true });
    }
  });

  it.each([-1, 101, 12.5, Number.NaN, Number.POSITIVE_INFINITY, 1000])('refuses %s with a RangeError', (p) => {
    expect(() => weightsForPercent(p)).toThrow(RangeError);
    expect(() => weightsForPercent(p)).toThrow(/percent must be an integer 0–100/);
  });
});

describe('formatting', () => {
  it('formatSplit uses the one wording every message shares', () => {
    expect(formatSplit({ kubernetesPercent: 30, ec2Percent: 70 })).toBe('Kubernetes 30% · EC2 70%');
  });

  it('formatWeights shows the percentage the weights amount to, not the raw weights', () => {
    expect(formatWeights({ kubernetes: 3, ec2: 1 })).toBe('Kubernetes 75% · EC2 25%');
    expect(formatWeights({ kubernetes: 0, ec2: 0 })).toBe('Kubernetes 50% · EC2 50%');
  });

  it('sameWeights compares both sides', () => {
    expect(sameWeights({ kubernetes: 1, ec2: 2 }, { kubernetes: 1, ec2: 2 })).toBe(true);
    expect(sameWeights({ kubernetes: 1, ec2: 2 }, { kubernetes: 1, ec2: 3 })).toBe(false);
    expect(sameWeights({ kubernetes: 1, ec2: 2 }, { kubernetes: 2, ec2: 2 })).toBe(false);
    // Same split, different weights: the records differ, so this is not "no change".
    expect(sameWeights({ kubernetes: 1, ec2: 1 }, { kubernetes: 50, ec2: 50 })).toBe(false);
  });
});
