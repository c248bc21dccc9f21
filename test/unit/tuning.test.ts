import { describe, expect, it } from 'vitest';
import { readTuning } from '../../src/config/tuning.js';

describe('readTuning', () => {
  it('uses the production defaults when nothing is set', () => {
    const t = readTuning({});
    // toMatchObject: knobs added later keep their own defaults without breaking this list.
    expect(t).toMatchObject({
      route53PollMs: 2000,
      route53SyncTimeoutMs: 180_000,
      route53MaxAttempts: 8,
      jobLockMs: 30_000,
      applyAttempts: 5,
      applyBackoffMs: 5000,
      sweepEveryMs: 60_000,
    });
    for (const [name, value] of Object.entries(t)) {
      expect(value, name).toBeGreaterThan(0);
    }
  });

  it('treats an empty variable as unset', () => {
    expect(readTuning({ STRANGLER_ROUTE53_POLL_MS: '' }).route53PollMs).toBe(2000);
  });

  it.each([
    ['STRANGLER_ROUTE53_POLL_MS', 'route53PollMs'],
    ['STRANGLER_ROUTE53_SYNC_TIMEOUT_MS', 'route53SyncTimeoutMs'],
    ['STRANGLER_ROUTE53_MAX_ATTEMPTS', 'route53MaxAttempts'],
    ['STRANGLER_JOB_LOCK_MS', 'jobLockMs'],
    ['STRANGLER_APPLY_ATTEMPTS', 'applyAttempts'],
    ['STRANGLER_APPLY_BACKOFF_MS', 'applyBackoffMs'],
    ['STRANGLER_SWEEP_EVERY_MS', 'sweepEveryMs'],
    ['STRANGLER_GATE_READ_TIMEOUT_MS', 'gateReadTimeoutMs'],
  ] as const)('%s sets %s and nothing else', (name, key) => {
    const t = readTuning({ [name]: '123' });
    expect(t[key]).toBe(123);
    const others = Object.entries(t).filter(([k]) => k !== key);
    expect(others.every(([, v]) => v !== 123)).toBe(true);
  });

  it('accepts 0, which tests use to make waits instant', () => {
    expect(readTuning({ STRANGLER_APPLY_BACKOFF_MS: '0' }).applyBackoffMs).toBe(0);
  });

  it.each(['abc', '-1', 'Infinity', 'NaN', '12ms'])('refuses %j naming the variable and the value', (raw) => {
    expect(() => readTuning({ STRANGLER_JOB_LOCK_MS: raw })).toThrow(`STRANGLER_JOB_LOCK_MS must be a whole number of milliseconds or a count, got "${raw}"`);
  });

  it('STRANGLER_OUTSIDE_CHECK_EVERY_MS: every minute by default, set alone, 0 turns the check off', () => {
    expect(readTuning({}).outsideCheckEveryMs).toBe(60_000);
    const t = readTuning({ STRANGLER_OUTSIDE_CHECK_EVERY_MS: '123' });
    expect(t.outsideCheckEveryMs).toBe(123);
    expect(Object.entries(t).filter(([k, v]) => k !== 'outsideCheckEveryMs' && v === 123)).toEqual([]);
    expect(readTuning({ STRANGLER_OUTSIDE_CHECK_EVERY_MS: '0' }).outsideCheckEveryMs).toBe(0);
  });

  it('reads gates for 10 s by default, and never for 0 ms (every read would time out at once)', () => {
    expect(readTuning({}).gateReadTimeoutMs).toBe(10_000);
    expect(readTuning({ STRANGLER_GATE_READ_TIMEOUT_MS: '0' }).gateReadTimeoutMs).toBe(1);
  });
});
