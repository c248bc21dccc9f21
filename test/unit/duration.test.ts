import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { durationSchema } from '../../src/config/duration-schema.js';
import { formatDuration, parseDuration } from '../../src/core/duration.js';
import { BadDuration } from '../../src/core/errors.js';

function refusal(input: string): BadDuration {
  try {
    parseDuration(input);
  } catch (err) {
    expect(err).toBeInstanceOf(BadDuration);
    return err as BadDuration;
  }
  throw new Error(`expected "${input}" to be refused`);
}

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1h0m5s', 3_605_000],
    ['90s', 90_000],
    [' 10m ', 600_000],
    ['2M', 120_000],
  ])('%j is %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ['', 'it is empty'],
    ['10', '10 has no unit (s, m or h)'],
    ['10x', '"x" is not a unit; use s, m or h'],
    ['10ms', '"ms" is not a unit; use s, m or h'],
    ['1.5h', 'whole numbers each followed by s, m or h'],
    ['10 m', 'whole numbers each followed by s, m or h'],
    ['-5m', 'it cannot be negative'],
    ['30m1h', 'largest first'],
    ['1m1m', 'largest first'],
    ['0s', 'it must be longer than zero'],
    ['soon', 'whole numbers each followed by s, m or h'],
  ])('%j is refused: %s', (input, why) => {
    const err = refusal(input);
    expect(err.code).toBe('BAD_DURATION');
    expect(err.message).toContain(`"${input}" is not a duration`);
    expect(err.message).toContain(why);
    expect(err.hint).toContain('30s, 2m, 15m, 1h or 1h30m');
  });

  it('refuses a duration too long to count in milliseconds', () => {
    expect(refusal('99999999999999999999h').message).toContain('too long');
  });
});

describe('formatDuration', () => {
  it.each([
    [30_000, '30s'],
    [120_000, '2m'],
    [5_400_000, '1h30m'],
    [3_605_000, '1h5s'],
    [1500, '2s'],
    [0, '0s'],
    [-1, '0s'],
  ])('%i ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['30s', '2m', '15m', '1h', '1h30m', '2h15m10s'])('gives back %j after parsing it', (text) => {
    expect(formatDuration(parseDuration(text))).toBe(text);
  });

  it('spells 90s canonically as 1m30s', () => {
    expect(formatDuration(parseDuration('90s'))).toBe('1m30s');
  });
});

describe('durationSchema', () => {
  const bake = z.object({ bake: durationSchema({ minMs: 1000, maxMs: 24 * 3_600_000 }) });

  it('parses to milliseconds', () => {
    expect(bake.parse({ bake: '15m' })).toEqual({ bake: 900_000 });
  });

  it('puts the BadDuration sentence and hint on the field', () => {
    const r = bake.safeParse({ bake: '15 minutes' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['bake']);
    expect(r.error!.issues[0]!.message).toContain('"15 minutes" is not a duration');
    expect(r.error!.issues[0]!.message).toContain('e.g. 30s, 2m');
  });

  it('refuses a number, asking for a duration string', () => {
    const r = bake.safeParse({ bake: 900 });
    expect(r.error!.issues[0]!.message).toBe('must be a duration such as "30s", "2m" or "1h30m"');
  });

  it('names the bounds in the units people write', () => {
    expect(bake.safeParse({ bake: '25h' }).error!.issues[0]!.message).toBe('must be at most 24h, got "25h"');
    const short = z.object({ bake: durationSchema({ minMs: 90_000 }) });
    expect(short.safeParse({ bake: '1m' }).error!.issues[0]!.message).toBe('must be at least 1m30s, got "1m"');
  });
});
