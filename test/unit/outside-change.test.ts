import { describe, expect, it } from 'vitest';
import {
  type Baseline,
  evaluateOutside,
  type OutsideState,
  outsideButtonValue,
  parseOutsideButtonValue,
  sameShare,
  shortSplit,
  withOutsideAlert,
} from '../../src/core/outside-change.js';

const w = (kubernetes: number, ec2: number) => ({ kubernetes, ec2 });
const base = (k: number, e: number): Baseline => ({ weights: w(k, e), source: 'applied', at: 0 });
let n = 0;
const key = () => `k${++n}`;
const ALERT = { channel: 'C0ALERTS', ts: '1.000' };

describe('sameShare', () => {
  it('compares what Route 53 serves, not the numbers', () => {
    expect(sameShare(w(30, 70), w(3, 7))).toBe(true);
    expect(sameShare(w(30, 70), w(31, 69))).toBe(false);
    expect(sameShare(w(0, 0), w(50, 50))).toBe(true);
    expect(sameShare(w(0, 100), w(0, 5))).toBe(true);
    expect(sameShare(w(0, 100), w(100, 0))).toBe(false);
  });

  it('shortSplit is Kubernetes/EC2 percent', () => {
    expect(shortSplit(w(30, 70))).toBe('30/70');
    expect(shortSplit(w(1, 2))).toBe('33/67');
    expect(shortSplit(w(0, 0))).toBe('50/50');
  });
});

describe('evaluateOutside', () => {
  it('stays quiet while the live split is the baseline', () => {
    const { next, actions } = evaluateOutside(undefined, 'api', w(30, 70), base(30, 70), 1000, key);
    expect(actions).toEqual([]);
    expect(next).toEqual({ service: 'api', checkedAt: 1000 });
  });

  it('starts one episode and alerts once, not again while the split holds', () => {
    const first = evaluateOutside(undefined, 'api', w(50, 50), base(30, 70), 1000, key);
    expect(first.actions).toEqual([{ type: 'alert' }]);
    expect(first.next.episode).toMatchObject({ from: w(30, 70), live: w(50, 50), since: 1000, changedAt: 1000 });
    const alerted = withOutsideAlert(first.next, ALERT);
    const second = evaluateOutside(alerted, 'api', w(50, 50), base(30, 70), 2000, key);
    expect(second.actions).toEqual([]);
    expect(second.next.episode).toEqual(alerted.episode);
    // Same traffic written differently is not a new change.
    expect(evaluateOutside(alerted, 'api', w(5, 5), base(30, 70), 2500, key).actions).toEqual([]);
  });

  it('tries the alert again when it could not be posted', () => {
    const first = evaluateOutside(undefined, 'api', w(50, 50), base(30, 70), 1000, key);
    const again = evaluateOutside(first.next, 'api', w(50, 50), base(30, 70), 2000, key);
    expect(again.actions).toEqual([{ type: 'alert' }]);
    expect(again.next.episode!.key).toBe(first.next.episode!.key);
  });

  it('updates the alert when the split changes again, keeping the episode', () => {
    const first = withOutsideAlert(evaluateOutside(undefined, 'api', w(50, 50), base(30, 70), 1000, key).next, ALERT);
    const { next, actions } = evaluateOutside(first, 'api', w(70, 30), base(30, 70), 3000, key);
    expect(actions).toEqual([{ type: 'update', alert: ALERT }]);
    expect(next.episode).toMatchObject({ key: first.episode!.key, from: w(30, 70), live: w(70, 30), since: 1000, changedAt: 3000, alert: ALERT });
  });

  it('offers the new baseline when the bot applied a change during the episode and the split still differs', () => {
    const first = withOutsideAlert(evaluateOutside(undefined, 'api', w(50, 50), base(30, 70), 1000, key).next, ALERT);
    const { next, actions } = evaluateOutside(first, 'api', w(50, 50), base(60, 40), 3000, key);
    expect(actions).toEqual([{ type: 'update', alert: ALERT }]);
    expect(next.episode).toMatchObject({ key: first.episode!.key, from: w(60, 40), live: w(50, 50), changedAt: 1000 });
  });

  it('resolves the episode when the split is back at the baseline', () => {
    const first: OutsideState = withOutsideAlert(evaluateOutside(undefined, 'api', w(50, 50), base(30, 70), 1000, key).next, ALERT);
    const { next, actions } = evaluateOutside(first, 'api', w(30, 70), base(30, 70), 4000, key);
    expect(actions).toEqual([{ type: 'resolve', episode: first.episode, baseline: base(30, 70) }]);
    expect(next.episode).toBeUndefined();
  });

  it('resolves when a new baseline (an apply, an Accept) matches the live split', () => {
    const first = withOutsideAlert(evaluateOutside(undefined, 'api', w(50, 50), base(30, 70), 1000, key).next, ALERT);
    const accepted: Baseline = { weights: w(50, 50), source: 'accepted', at: 2000, by: 'U0BOB' };
    expect(evaluateOutside(first, 'api', w(50, 50), accepted, 3000, key).actions).toMatchObject([{ type: 'resolve' }]);
  });
});

describe('outside button values', () => {
  it('round-trip the service and the episode key', () => {
    expect(parseOutsideButtonValue(outsideButtonValue('api-v2', 'Ab_c-9'))).toEqual({ service: 'api-v2', key: 'Ab_c-9' });
  });

  it.each([undefined, '', 'api', '.k', 'api.', 'a pi.k', 'api.k.k', `api.${'k'.repeat(65)}`, '<!channel>.k'])('refuse %j', (v) => {
    expect(parseOutsideButtonValue(v)).toBeUndefined();
  });
});
