/**
 * The tandem-deploy gate end to end: the real bot's HTTP server (Bolt's receiver, and the plain
 * one of a worker-only replica), real Redis under the rate limiter and the drift store, version
 * endpoints a test flips like a deploy would, and the built CLI as a child process.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../src/bot.js';
import { readTuning } from '../../src/config/tuning.js';
import type { VersionsAnswer } from '../../src/core/versions-answer.js';
import { silentLogger } from '../../src/log.js';
import { baseConfig, BOT_TOKEN, BotHarness, SIGNING_SECRET, TEST_TUNING_ENV } from '../support/bot-harness.js';
import { startBotProcess, writeConfig } from '../support/bot-process.js';
import { runCli, startCli } from '../support/cli-process.js';
import { VersionEndpoints } from '../support/version-endpoints.js';

// One token per test that polls, so their rate-limit windows do not meet.
const TOKENS = {
  flip: 'tok-flip-0123456789abcdef',
  timeout: 'tok-timeout-0123456789abcdef',
  limit: 'tok-limit-0123456789abcdef',
  limitCli: 'tok-limitcli-0123456789abcdef',
  misc: 'tok-misc-0123456789abcdef',
};
const ALL_TOKENS = Object.values(TOKENS);
const RATE = { STRANGLER_API_RATE_LIMIT: '30', STRANGLER_API_RATE_WINDOW_S: '10' };

describe('the tandem-deploy gate: GET /api/v1/services/{service}/versions and strangler wait-for-version', () => {
  let h: BotHarness;
  let http: VersionEndpoints;
  const logLines: string[] = [];
  const cliOutput: string[] = [];
  const extraBots: RunningBot[] = [];

  const url = (service: string, base = h.baseUrl) => `${base}/api/v1/services/${service}/versions`;
  const get = (service: string, token?: string, base?: string) => fetch(url(service, base), token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const cliEnv = (token: string, base = h.baseUrl) => ({ STRANGLER_URL: base, STRANGLER_API_TOKEN: token });
  const cli = async (args: string[], env: Record<string, string>, timeoutMs?: number) => {
    const r = await runCli(['wait-for-version', ...args], env, timeoutMs);
    cliOutput.push(r.stdout, r.stderr);
    return r;
  };

  const metric = async (outcome: string): Promise<number> => {
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    const m = new RegExp(`strangler_versions_api_requests_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
    return Number(m?.[1] ?? 0);
  };

  beforeAll(async () => {
    http = await VersionEndpoints.start();
    http.set('/k8s/api', 'aaa1111');
    http.set('/ec2/api', 'aaa1111');
    const base = baseConfig() as { slack: Record<string, unknown>; services: Record<string, Record<string, unknown>> };
    // Every line the bot logs, at debug level, to prove no token is in any of them.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    h = await BotHarness.start({
      config: {
        ...base,
        slack: { ...base.slack, alertChannel: 'C0ALERTS' },
        services: {
          api: { ...base.services.api, version: { kubernetes: { url: `${http.url}/k8s/api`, field: 'commit' }, ec2: { url: `${http.url}/ec2/api`, field: 'commit' } } },
          // `web` has no version sources: the API knows it, but not what it runs.
          web: base.services.web,
        },
        drift: { intervalSeconds: 5, graceSeconds: 600, remindEveryMinutes: 240 },
      },
      apiTokens: ALL_TOKENS,
      env: RATE,
      log: pino({ level: 'debug' }, sink),
    });
  });
  afterAll(async () => {
    for (const b of extraBots) await b.stop({ force: true }).catch(() => undefined);
    await h?.close();
    await http?.close();
  });

  it('answers each side’s version, since when, and the drift state, from the last drift check', async () => {
    const answer = await h.slack.waitFor(
      async () => {
        const res = await get('api', TOKENS.misc);
        const body = (await res.json()) as VersionsAnswer;
        return body.checkedAt ? { res, body } : undefined;
      },
      20_000,
      'a drift check to record the versions of api',
    );
    expect(answer.res.status).toBe(200);
    expect(answer.res.headers.get('content-type')).toContain('application/json');
    const { body } = answer;
    expect(body).toMatchObject({ service: 'api', kubernetes: { version: 'aaa1111' }, ec2: { version: 'aaa1111' }, drift: { state: 'in-sync', since: null, alerted: false } });
    for (const side of [body.kubernetes!, body.ec2!]) {
      expect(Date.parse(side.since!)).toBeLessThanOrEqual(Date.parse(body.checkedAt!));
      expect(Date.now() - Date.parse(side.since!)).toBeLessThan(60_000);
    }
  });

  it('wait-for-version exits 0 once both sides run the version, waiting while only one does', async () => {
    const run = startCli(['wait-for-version', 'api', 'bbb2222', '--interval', '1s', '--timeout', '90s'], cliEnv(TOKENS.flip));
    await run.waitForOutput('Kubernetes runs aaa1111');
    const beforeFlip = Date.now();
    http.set('/k8s/api', 'bbb2222');
    await run.waitForOutput('Kubernetes runs bbb2222', 30_000);
    // Half deployed: the CLI still waits, and the API calls it drift with each side's own "since".
    const half = (await (await get('api', TOKENS.misc)).json()) as VersionsAnswer;
    expect(half.drift.state).toBe('drift');
    expect(half.kubernetes).toMatchObject({ version: 'bbb2222' });
    expect(Date.parse(half.kubernetes!.since!)).toBeGreaterThanOrEqual(beforeFlip - 1000);
    expect(Date.parse(half.ec2!.since!)).toBeLessThan(beforeFlip);
    expect(half.drift.since).not.toBeNull();
    expect(run.child.exitCode).toBeNull();
    http.set('/ec2/api', 'bbb2222');
    const code = await run.exited;
    cliOutput.push(run.stdout(), run.stderr());
    expect(code, run.stderr()).toBe(0);
    expect(run.stdout()).toContain('api runs bbb2222 on Kubernetes and EC2');
  }, 120_000);

  it('a full sha matches the short one a side reports, and --side waits for one side only', async () => {
    http.set('/k8s/api', 'ccc3333');
    const r = await cli(['api', 'ccc3333ffffffffffffffffffffffffffffffffff'.slice(0, 40), '--side', 'kubernetes', '--interval', '1s', '--timeout', '60s'], cliEnv(TOKENS.misc));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('on Kubernetes');
  }, 90_000);

  it('wait-for-version exits 1 on timeout, printing what each side runs', async () => {
    const r = await cli(['api', 'ddd4444', '--interval', '1s', '--timeout', '3s'], cliEnv(TOKENS.timeout));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('timed out after 3 s: api does not run ddd4444 on Kubernetes and EC2');
    expect(r.stderr).toMatch(/Kubernetes runs ccc3333 since \S+; EC2 runs bbb2222 since \S+/);
    expect(r.stdout).toBe('');
  }, 60_000);

  it.each([
    ['an unknown service', ['nope', 'aaa1111'], TOKENS.misc, 'There is no service called "nope". Known services: api, web.'],
    ['a service without version sources', ['web', 'aaa1111'], TOKENS.misc, 'Service "web" has no version sources'],
    ['a wrong token', ['api', 'aaa1111'], 'not-a-token-0123456789abcdef', 'STRANGLER_API_TOKEN was refused by'],
    ['a malformed version', ['api', 'v1 && rm -rf /'], TOKENS.misc, '"v1 && rm -rf /" is not a version: use letters, digits and . _ - + :'],
    ['a malformed version (empty)', ['api', ''], TOKENS.misc, '"" is not a version'],
    ['an unknown option', ['api', 'aaa1111', '--sied', 'ec2'], TOKENS.misc, "Unknown option '--sied'"],
  ])('wait-for-version exits 2 on %s, with a clear message', async (_name, args, token, message) => {
    const r = await cli(args, cliEnv(token));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('wait-for-version exits 2 when STRANGLER_URL or STRANGLER_API_TOKEN is missing', async () => {
    const noUrl = await cli(['api', 'aaa1111'], { STRANGLER_API_TOKEN: TOKENS.misc });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('STRANGLER_URL is not set');
    const noToken = await cli(['api', 'aaa1111'], { STRANGLER_URL: h.baseUrl });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('STRANGLER_API_TOKEN is not set');
  });

  it('refuses a missing or wrong token with 401 and WWW-Authenticate, saying nothing about services', async () => {
    const none = await get('api');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="strangler"');
    expect(await none.json()).toMatchObject({ error: 'unauthorized' });
    const wrong = await get('nope', 'wrong-token-0123456789abcdef');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="strangler", error="invalid_token"');
    expect(JSON.stringify(await wrong.json())).not.toContain('nope');
    // A near miss (one character short) is as wrong as any other.
    expect((await get('api', TOKENS.misc.slice(0, -1))).status).toBe(401);
  });

  it('survives a malformed path: an error status, and the next request is answered', async () => {
    const res = await fetch(`${h.baseUrl}/api/v1/services/%E0%A4/versions`, { headers: { authorization: `Bearer ${TOKENS.misc}` } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await get('api', TOKENS.misc)).status).toBe(200);
  });

  it('answers 429 with Retry-After once a token is over its limit, other tokens unaffected', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await get('api', TOKENS.limit);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(limited, `statuses: ${statuses.join(',')}`).toBeDefined();
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(await limited!.json()).toMatchObject({ error: 'rate_limited' });
    expect((await get('api', TOKENS.misc)).status).toBe(200);
    // The limiter's keys in Redis name a digest of the token, never the token.
    const redis = new Redis(h.redis.url);
    try {
      const keys = await redis.keys('strangler:api-rate*');
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) for (const t of ALL_TOKENS) expect(k).not.toContain(t);
    } finally {
      redis.disconnect();
    }
  });

  it('wait-for-version honours Retry-After while polling, then finishes', async () => {
    for (let i = 0; i < 30; i++) await (await get('api', TOKENS.limitCli)).body?.cancel();
    expect((await get('api', TOKENS.limitCli)).status).toBe(429);
    const refusedBefore = await metric('rate_limited');
    const r = await cli(['api', 'bbb2222', '--side', 'ec2', '--interval', '1s', '--timeout', '60s'], cliEnv(TOKENS.limitCli));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Too many requests with this token \(30 per 10 s\); retry after \d+ s\. \(waiting \d+ s\)/);
    // It waited out the window rather than polling every second into it (which would be ~9 refusals).
    expect((await metric('rate_limited')) - refusedBefore).toBeLessThanOrEqual(2);
  }, 90_000);

  it('serves the same API on a worker-only replica (its plain HTTP server)', async () => {
    const worker = await startBot({
      config: h.config,
      tuning: readTuning({ ...TEST_TUNING_ENV, ...RATE }),
      roles: ['worker'],
      redis: h.redis.url,
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: h.slack.apiUrl },
      port: 0,
      log: silentLogger,
      apiTokens: ALL_TOKENS,
    });
    extraBots.push(worker);
    const base = `http://127.0.0.1:${worker.port}`;
    const res = await get('api', TOKENS.misc, base);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ service: 'api', ec2: { version: 'bbb2222' } });
    expect((await get('nope', TOKENS.misc, base)).status).toBe(404);
    expect((await get('api', undefined, base)).status).toBe(401);
  });

  it('is off, answering 404, on a bot without tokens; the CLI then exits 2', async () => {
    const off = await startBot({
      config: h.config,
      tuning: readTuning({ ...TEST_TUNING_ENV }),
      roles: ['web'],
      redis: h.redis.url,
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: h.slack.apiUrl },
      port: 0,
      log: silentLogger,
    });
    extraBots.push(off);
    const base = `http://127.0.0.1:${off.port}`;
    const res = await get('api', TOKENS.misc, base);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'api_off' });
    const r = await cli(['api', 'aaa1111'], cliEnv(TOKENS.misc, base));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('The strangler API is off: STRANGLER_API_TOKENS is not set on the bot.');
  });

  it('the built bot refuses to start with a short token, naming its position and not its value', async () => {
    const bot = await startBotProcess(
      { ...h.processEnv(writeConfig(baseConfig())), STRANGLER_API_TOKENS: `${TOKENS.misc},tiny-secret` },
      { waitReady: false },
    );
    expect(await bot.exited).toBe(1);
    const output = bot.output.join('\n');
    expect(output).toContain('strangler cannot start: The environment is not valid:');
    expect(output).toContain('STRANGLER_API_TOKENS: token 2 has 11 characters; use at least 16');
    expect(output).not.toContain('tiny-secret');
    expect(output).not.toContain(TOKENS.misc);
  });

  it('counts answers by outcome in /metrics', async () => {
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    for (const outcome of ['ok', 'unauthorized', 'rate_limited', 'not_found']) {
      expect(text).toMatch(new RegExp(`strangler_versions_api_requests_total\\{outcome="${outcome}"\\} [1-9]`));
    }
  });

  it('never puts a token in a log line or in the CLI’s output', () => {
    // The capture works: refusals were logged.
    expect(logLines.some((l) => l.includes('"event":"api.refused"'))).toBe(true);
    expect(cliOutput.join('').length).toBeGreaterThan(0);
    for (const t of [...ALL_TOKENS, 'not-a-token-0123456789abcdef', 'wrong-token-0123456789abcdef']) {
      for (const l of logLines) expect(l).not.toContain(t);
      for (const o of cliOutput) expect(o).not.toContain(t);
    }
  });
});
