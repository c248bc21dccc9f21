import { describe, expect, it } from 'vitest';
import { parseCli, parseDuration, readTarget, UsageError } from '../../src/cli/args.js';
import { humanDuration, waitForVersion, type WaitDeps } from '../../src/cli/wait-for-version.js';
import type { VersionsAnswer } from '../../src/core/versions-answer.js';

const wait = (argv: string[]) => {
  const c = parseCli(argv);
  if (c.kind !== 'wait') throw new Error('expected wait');
  return c.options;
};

describe('strangler CLI arguments', () => {
  it('takes service and version with the documented defaults', () => {
    expect(wait(['wait-for-version', 'api', 'abc1234'])).toEqual({ service: 'api', version: 'abc1234', side: 'both', timeoutMs: 20 * 60_000, intervalMs: 10_000 });
  });

  it('takes --side, --timeout and --interval in either place and form', () => {
    expect(wait(['wait-for-version', '--side', 'ec2', 'api', '1.2.3-rc.1+b5', '--timeout=90s', '--interval', '500ms'])).toEqual({
      service: 'api',
      version: '1.2.3-rc.1+b5',
      side: 'ec2',
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    expect(wait(['wait-for-version', 'api', 'v1', '--side', 'kubernetes', '--timeout', '1h']).timeoutMs).toBe(3_600_000);
    expect(wait(['wait-for-version', 'api', 'v1', '--timeout', '45']).timeoutMs).toBe(45_000);
  });

  it('answers --help', () => {
    expect(parseCli(['--help'])).toEqual({ kind: 'help' });
    expect(parseCli(['wait-for-version', '-h'])).toEqual({ kind: 'help' });
  });

  it.each([
    [[], 'no command given'],
    [['deploy', 'api', 'v1'], 'unknown command "deploy": the only one is wait-for-version'],
    [['wait-for-version', 'api'], 'wait-for-version needs a service and a version'],
    [['wait-for-version', 'api', 'v1', 'extra'], 'unexpected argument "extra"'],
    [['wait-for-version', '../admin', 'v1'], '"../admin" is not a service name'],
    [['wait-for-version', 'api', 'v1 2'], '"v1 2" is not a version'],
    [['wait-for-version', 'api', ''], '"" is not a version'],
    [['wait-for-version', 'api', '-v1'], "Unknown option '-v'"],
    [['wait-for-version', 'api', 'v1', '--side', 'k8s'], '--side must be both, kubernetes or ec2, got "k8s"'],
    [['wait-for-version', 'api', 'v1', '--timeout', '20 minutes'], '--timeout must be a duration like 30s, 20m or 1h, got "20 minutes"'],
    [['wait-for-version', 'api', 'v1', '--interval', '0s'], '--interval must be longer than 0'],
    [['wait-for-version', 'api', 'v1', '--side'], "Option '--side <value>' argument missing"],
    [['wait-for-version', 'api', 'v1', '--force'], "Unknown option '--force'"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });

  it('parses durations', () => {
    expect(parseDuration('20m', 'timeout')).toBe(1_200_000);
    expect(parseDuration(' 2h ', 'timeout')).toBe(7_200_000);
    expect(() => parseDuration('-1s', 'timeout')).toThrow(UsageError);
    expect(() => parseDuration('1d', 'timeout')).toThrow(UsageError);
  });
});

describe('STRANGLER_URL and STRANGLER_API_TOKEN', () => {
  const token = 'secret-token-0123456789';

  it('builds the endpoint under the base URL, path prefix included, service encoded', () => {
    expect(readTarget({ STRANGLER_URL: 'https://bot.example.com', STRANGLER_API_TOKEN: token }, 'api').url.href).toBe('https://bot.example.com/api/v1/services/api/versions');
    expect(readTarget({ STRANGLER_URL: 'https://x.example.com/strangler/', STRANGLER_API_TOKEN: token }, 'a_b').url.href).toBe(
      'https://x.example.com/strangler/api/v1/services/a_b/versions',
    );
  });

  it.each([
    [{ STRANGLER_API_TOKEN: token }, 'STRANGLER_URL is not set'],
    [{ STRANGLER_URL: '  ', STRANGLER_API_TOKEN: token }, 'STRANGLER_URL is not set'],
    [{ STRANGLER_URL: 'bot:3000', STRANGLER_API_TOKEN: token }, 'STRANGLER_URL must be http:// or https://'],
    [{ STRANGLER_URL: 'not a url', STRANGLER_API_TOKEN: token }, 'STRANGLER_URL is not a URL'],
    [{ STRANGLER_URL: 'https://u:p@bot.example.com', STRANGLER_API_TOKEN: token }, 'must not carry credentials'],
    [{ STRANGLER_URL: 'https://bot.example.com' }, 'STRANGLER_API_TOKEN is not set'],
    [{ STRANGLER_URL: 'https://bot.example.com', STRANGLER_API_TOKEN: 'a b' }, 'STRANGLER_API_TOKEN contains whitespace'],
  ])('refuses %j', (env, message) => {
    expect(() => readTarget(env, 'api')).toThrow(message);
  });

  it('refuses a token an HTTP header cannot carry up front (exit 2, not retried as network trouble), never quoting it', () => {
    for (const bad of ['tøken-0123456789abcdef', 'token-0123456789abcdef’', 'токен-0123456789abcdef', 'token-0123456789\u0007abc']) {
      let err: unknown;
      try {
        readTarget({ STRANGLER_URL: 'https://bot.example.com', STRANGLER_API_TOKEN: bad }, 'api');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain('STRANGLER_API_TOKEN has a character an HTTP header cannot carry');
      expect((err as Error).message).not.toContain('0123456789');
    }
  });

  it('never quotes the token in a refusal', () => {
    try {
      readTarget({ STRANGLER_URL: 'https://bot.example.com', STRANGLER_API_TOKEN: 'has space-0123456789' }, 'api');
    } catch (err) {
      expect((err as Error).message).not.toContain('space-0123456789');
    }
  });
});

describe('durations as people write them', () => {
  it.each([
    [1_200_000, '20 min'],
    [3_600_000, '1 h'],
    [90_000, '90 s'],
    [500, '500 ms'],
  ])('%i ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('waitForVersion polling', () => {
  const target = { url: new URL('http://bot.test/api/v1/services/api/versions'), token: 'tok-0123456789abcdef' };
  const options = { service: 'api', version: 'v2', side: 'both' as const, timeoutMs: 60_000, intervalMs: 5000 };
  const answer = (k: string, e: string, rollingTo?: string): VersionsAnswer => ({
    service: 'api',
    checkedAt: '2026-01-01T00:00:00.000Z',
    kubernetes: { version: k, since: '2026-01-01T00:00:00.000Z', ...(rollingTo ? { rollingTo } : {}) },
    ec2: { version: e, since: '2026-01-01T00:00:00.000Z' },
    drift: { state: k === e ? 'in-sync' : 'drift', since: null, alerted: false },
  });

  /** A fake clock that sleeping advances, and a server answering from a script. */
  function world(responses: Array<() => Response>) {
    let now = 0;
    const sleeps: number[] = [];
    const err: string[] = [];
    const out: string[] = [];
    const seen: Array<{ auth: string | null; redirect: string | undefined }> = [];
    const deps: WaitDeps = {
      fetch: (async (_url: URL, init: RequestInit) => {
        seen.push({ auth: new Headers(init.headers).get('authorization'), redirect: init.redirect });
        const next = responses.length > 1 ? responses.shift()! : responses[0]!;
        return next();
      }) as typeof fetch,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      err: (l) => err.push(l),
      out: (l) => out.push(l),
    };
    return { deps, sleeps, err, out, seen };
  }
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

  it('waits while one side or a rollout lags, then exits 0', async () => {
    const w = world([json(answer('v1', 'v1')), json(answer('v2', 'v1')), json(answer('v1', 'v2', 'v2')), json(answer('v2', 'v2'))]);
    expect(await waitForVersion(options, target, w.deps)).toBe(0);
    expect(w.sleeps).toEqual([5000, 5000, 5000]);
    expect(w.out).toEqual([expect.stringContaining('api runs v2 on Kubernetes and EC2')]);
    expect(w.seen.every((s) => s.auth === `Bearer ${target.token}` && s.redirect === 'manual')).toBe(true);
  });

  it('with --side, looks at that side only', async () => {
    const w = world([json(answer('v1', 'v2'))]);
    expect(await waitForVersion({ ...options, side: 'ec2' }, target, w.deps)).toBe(0);
  });

  it('times out with exit 1, saying what each side runs, and prints a repeated state once', async () => {
    const w = world([json(answer('v1', 'v1'))]);
    expect(await waitForVersion({ ...options, timeoutMs: 20_000 }, target, w.deps)).toBe(1);
    expect(w.err.filter((l) => l.startsWith('api: '))).toHaveLength(1);
    expect(w.err[0]).toBe('waiting up to 20 s for api to run v2 on Kubernetes and EC2');
    expect(w.err.at(-1)).toBe(
      'strangler wait-for-version: timed out after 20 s: api does not run v2 on Kubernetes and EC2. Kubernetes runs v1 since 2026-01-01T00:00:00.000Z; EC2 runs v1 since 2026-01-01T00:00:00.000Z (checked 2026-01-01T00:00:00.000Z)',
    );
  });

  it('waits as long as Retry-After says on a 429', async () => {
    const w = world([json({ error: 'rate_limited', message: 'Too many requests' }, 429, { 'retry-after': '42' }), json(answer('v2', 'v2'))]);
    expect(await waitForVersion(options, target, w.deps)).toBe(0);
    expect(w.sleeps).toEqual([42_000]);
  });

  it('keeps trying through 5xx and network errors, and says so once', async () => {
    const w = world([
      json({ error: 'unavailable', message: 'Redis' }, 503),
      () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      },
      json(answer('v2', 'v2')),
    ]);
    expect(await waitForVersion(options, target, w.deps)).toBe(0);
    expect(w.err).toContain('cannot reach http://bot.test: ECONNREFUSED (will retry)');
  });

  it.each([
    [json({ error: 'unauthorized', message: 'The bearer token is not one of STRANGLER_API_TOKENS.' }, 401), 'STRANGLER_API_TOKEN was refused by http://bot.test (401)'],
    [json({ error: 'unknown_service', message: 'There is no service called "api".' }, 404), 'There is no service called "api".'],
    [() => new Response('not found', { status: 404 }), 'does not exist (404): is STRANGLER_URL the strangler bot?'],
    [() => new Response('<html>login</html>', { status: 200, headers: { 'content-type': 'text/html' } }), "answered 200 but not with strangler's versions JSON"],
    [json({ status: 'ok' }), "answered 200 but not with strangler's versions JSON"],
    [() => new Response(null, { status: 301, headers: { location: 'https://elsewhere.example.com/' } }), 'redirects (301) to https://elsewhere.example.com/'],
  ])('exits 2 at once on a refusal (%#)', async (response, message) => {
    const w = world([response]);
    expect(await waitForVersion(options, target, w.deps)).toBe(2);
    expect(w.sleeps).toEqual([]);
    expect(w.err.at(-1)).toContain(message);
    expect(w.err.join('\n')).not.toContain(target.token);
  });
});

describe('the CLI stays free of the bot', () => {
  it('src/cli imports only itself, core/ and Node built-ins (so dist/cli.mjs is tiny and needs no node_modules)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const offending: string[] = [];
    for (const f of readdirSync('src/cli')) {
      const text = readFileSync(`src/cli/${f}`, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (!(spec.startsWith('node:') || spec.startsWith('./') || spec.startsWith('../core/'))) offending.push(`${f}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
