import { describe, expect, it } from 'vitest';
import { type DriftState, evaluateDrift, runningSince } from '../../src/core/drift.js';
import { isValidVersion, sameVersion } from '../../src/core/version-syntax.js';
import { versionsAnswer } from '../../src/core/versions-answer.js';
import { ConfigInvalid } from '../../src/core/errors.js';
import { ApiTokens, bearerToken, parseApiTokens } from '../../src/web/api-tokens.js';
import { matchPath } from '../../src/web/route-server.js';
import { readTuning } from '../../src/config/tuning.js';

describe('version syntax', () => {
  it.each(['abc1234', '0123456789abcdef0123456789abcdef01234567', '1.2.3', '1.2.3-rc.1+build.5', 'v2', 'release_2026-12-05', 'sha256:0123456789ab', 'A'])('accepts %s', (v) => {
    expect(isValidVersion(v)).toBe(true);
  });

  it.each(['', ' v1', 'v1 ', 'a b', '-rc1', '.hidden', 'feature/x', 'v1;rm', '$SHA', 'x'.repeat(129), 'é1', 'v1\n'])('refuses %j', (v) => {
    expect(isValidVersion(v)).toBe(false);
  });

  it('matches equal versions and a git sha with its abbreviation, nothing looser', () => {
    expect(sameVersion('1.2.3', '1.2.3')).toBe(true);
    expect(sameVersion('abc1234def5678abc1234def5678abc1234def56', 'abc1234')).toBe(true);
    expect(sameVersion('ABC1234', 'abc1234def')).toBe(true);
    expect(sameVersion('abc123', 'abc1234')).toBe(false); // shorter than git's 7
    expect(sameVersion('1.2', '1.2.3')).toBe(false);
    expect(sameVersion('1234567', '12345678')).toBe(false); // build numbers, not shas
    expect(sameVersion('abc1234', 'abc1235')).toBe(false);
  });
});

describe('STRANGLER_API_TOKENS', () => {
  it('is off when unset or empty', () => {
    expect(parseApiTokens(undefined)).toEqual([]);
    expect(parseApiTokens('  ')).toEqual([]);
  });

  it('splits on commas, trims, drops duplicates', () => {
    expect(parseApiTokens(' aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbbbbbb,aaaaaaaaaaaaaaaa')).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']);
  });

  it('refuses a short or empty token at start-up, naming its position and never its value', () => {
    let err: unknown;
    try {
      parseApiTokens('aaaaaaaaaaaaaaaa,short-secret,');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigInvalid);
    const message = (err as Error).message;
    expect(message).toContain('STRANGLER_API_TOKENS: token 2 has 12 characters; use at least 16');
    expect(message).toContain('STRANGLER_API_TOKENS: token 3 is empty');
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain('aaaaaaaaaaaaaaaa');
  });

  it('refuses at start-up a token an Authorization header cannot carry, never quoting it', () => {
    let err: unknown;
    try {
      parseApiTokens('aaaaaaaaaaaaaaaa,tøken-0123456789abcdef,токен-0123456789abcdef');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigInvalid);
    const message = (err as Error).message;
    expect(message).toContain('STRANGLER_API_TOKENS: token 2 has a character an Authorization header cannot carry: a token is visible ASCII only');
    expect(message).toContain('STRANGLER_API_TOKENS: token 3 has a character');
    expect(message).not.toContain('0123456789abcdef');
    expect(parseApiTokens('Aa0-._~+/=!#$%&*^|@:;<>?[]{}()abc')).toHaveLength(1);
  });

  it('reads the bearer token from the Authorization header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('identifies a token by a digest prefix that is not the token, refusing near misses', () => {
    const t = new ApiTokens(['first-token-0123456789', 'second-token-0123456789']);
    const a = t.identify('first-token-0123456789');
    const b = t.identify('second-token-0123456789');
    expect(a).toMatch(/^[0-9a-f]{24}$/);
    expect(b).toMatch(/^[0-9a-f]{24}$/);
    expect(a).not.toBe(b);
    for (const wrong of ['first-token-012345678', 'first-token-01234567890', 'FIRST-TOKEN-0123456789', '', undefined]) {
      expect(t.identify(wrong)).toBeUndefined();
    }
    expect(new ApiTokens([]).enabled).toBe(false);
  });
});

describe('since when each side runs its version', () => {
  const settings = { graceMs: 600_000, remindEveryMs: 3_600_000 };
  const step = (prev: DriftState | undefined, k: string | null, e: string | null, at: number) =>
    evaluateDrift(prev, 'api', k === null ? { error: 'down' } : { version: k }, e === null ? { error: 'down' } : { version: e }, at, settings).next;

  it('keeps the time a version was first seen, per side, through unreadable checks', () => {
    let s = step(undefined, 'v1', 'v1', 100);
    s = step(s, 'v2', 'v1', 200);
    s = step(s, 'v2', 'v1', 300);
    expect(runningSince(s, 'kubernetes')).toBe(200);
    expect(runningSince(s, 'ec2')).toBe(100);
    s = step(s, null, 'v1', 400);
    expect(runningSince(s, 'kubernetes')).toBeUndefined();
    s = step(s, 'v2', 'v2', 500);
    expect(runningSince(s, 'kubernetes')).toBe(200);
    expect(runningSince(s, 'ec2')).toBe(500);
  });

  it('treats a state saved before `seen` existed as first seen at its check', () => {
    const old: DriftState = { service: 'api', checkedAt: 100, kubernetes: { version: 'v1' }, ec2: { version: 'v1' } };
    expect(runningSince(old, 'ec2')).toBe(100);
    expect(runningSince(step(old, 'v1', 'v1', 200), 'ec2')).toBe(200);
  });

  it('answers the API JSON from the state', () => {
    let s = step(undefined, 'v1', 'v1', Date.UTC(2026, 0, 1, 10));
    s = step(s, 'v2', null, Date.UTC(2026, 0, 1, 11));
    expect(versionsAnswer('api', s)).toEqual({
      service: 'api',
      checkedAt: '2026-01-01T11:00:00.000Z',
      kubernetes: { version: 'v2', since: '2026-01-01T11:00:00.000Z' },
      ec2: { version: null, since: null, error: 'down' },
      drift: { state: 'unknown', since: '2026-01-01T11:00:00.000Z', alerted: false },
    });
    expect(versionsAnswer('api', undefined)).toEqual({ service: 'api', checkedAt: null, kubernetes: null, ec2: null, drift: { state: 'not-checked', since: null, alerted: false } });
    const rolling = evaluateDrift(undefined, 'api', { version: 'v1', rollingTo: 'v2' }, { version: 'v1' }, 0, settings).next;
    expect(versionsAnswer('api', rolling).kubernetes).toEqual({ version: 'v1', since: '1970-01-01T00:00:00.000Z', rollingTo: 'v2' });
  });
});

describe('route paths with parameters (worker-only replicas)', () => {
  it('matches and decodes :name segments like Bolt', () => {
    expect(matchPath('/api/v1/services/:service/versions', '/api/v1/services/api/versions')).toEqual({ service: 'api' });
    expect(matchPath('/api/v1/services/:service/versions', '/api/v1/services/a%20b/versions')).toEqual({ service: 'a b' });
    expect(matchPath('/healthz', '/healthz')).toEqual({});
    expect(matchPath('/api/v1/services/:service/versions', '/api/v1/services//versions')).toBeUndefined();
    expect(matchPath('/api/v1/services/:service/versions', '/api/v1/services/%E0/versions')).toBeUndefined();
    expect(matchPath('/api/v1/services/:service/versions', '/api/v1/services/api/versions/x')).toBeUndefined();
  });
});

describe('API rate-limit knobs', () => {
  it('default to 60 requests per 60 s per token and can be set', () => {
    expect(readTuning({})).toMatchObject({ apiRateLimit: 60, apiRateWindowSeconds: 60 });
    expect(readTuning({ STRANGLER_API_RATE_LIMIT: '5', STRANGLER_API_RATE_WINDOW_S: '2' })).toMatchObject({ apiRateLimit: 5, apiRateWindowSeconds: 2 });
    expect(() => readTuning({ STRANGLER_API_RATE_LIMIT: 'lots' })).toThrow('STRANGLER_API_RATE_LIMIT must be a whole number');
  });
});
