/**
 * Redis where teams run it: over TLS with a private CA (a real redis-server with --tls-port) and
 * through Sentinel. What the settings accept, and what a person reads when it does not work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigInvalid, Unreachable } from '../../src/core/errors.js';
import { connectRedis, readRedisSettings } from '../../src/redis-connection.js';
import { Redis } from 'ioredis';
import { RequestStore } from '../../src/store/request-store.js';
import { startRedisServer } from '../support/redis-server.js';
import { makeTestCa, startSentinelGroup, startTlsRedis, type SentinelGroup, type TestCa, type TlsRedis } from '../support/redis-ha.js';
import { weightRequestAt } from '../unit/request-fixture.js';

describe('REDIS_URL, REDIS_CA_FILE, REDIS_SENTINELS', () => {
  it('reads a plain URL, a TLS URL with its CA, and a Sentinel group', () => {
    expect(readRedisSettings({})).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6379' });
    const ca = makeTestCa();
    const tls = readRedisSettings({ REDIS_URL: 'rediss://cache.internal:6380', REDIS_CA_FILE: ca.caFile });
    expect(tls.kind === 'url' && tls.ca?.toString('utf8')).toMatch(/BEGIN CERTIFICATE/);
    expect(readRedisSettings({ REDIS_SENTINELS: 'a:26379, b:26380', REDIS_SENTINEL_NAME: 'main' })).toEqual({
      kind: 'sentinel',
      name: 'main',
      sentinels: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26380 },
      ],
    });
  });

  it('lists every problem with the Redis variables at once', () => {
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        readRedisSettings(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigInvalid);
        return (err as ConfigInvalid).problems;
      }
      throw new Error('expected the settings to be refused');
    };
    expect(problems({ REDIS_SENTINELS: 'a:26379,b', REDIS_URL: 'redis://x' })).toEqual([
      'REDIS_SENTINELS: "b" is not host:port',
      'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor the master by)',
      'REDIS_URL: set it or REDIS_SENTINELS, not both',
    ]);
    expect(problems({ REDIS_URL: 'redis://x', REDIS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
      'REDIS_CA_FILE: only used with a rediss:// REDIS_URL',
      'REDIS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)',
    ]);
    expect(problems({ REDIS_URL: 'http://x' })).toEqual(['REDIS_URL: must start with redis:// or rediss:// (TLS)']);
    expect(problems({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm', REDIS_CA_FILE: '/etc/ca.pem' })).toEqual([
      'REDIS_CA_FILE: TLS through Sentinel is not supported; use REDIS_URL=rediss://… for TLS',
    ]);
  });
});

describe('Redis over TLS (redis-server --tls-port, a test CA)', () => {
  let ca: TestCa;
  let server: TlsRedis;
  beforeAll(async () => {
    ca = makeTestCa();
    server = await startTlsRedis(ca);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('connects with the CA that signed the server certificate', async () => {
    const redis = await connectRedis(readRedisSettings({ REDIS_URL: server.tlsUrl, REDIS_CA_FILE: ca.caFile }));
    try {
      await redis.set('strangler:tls-check', 'ok');
      expect(await redis.get('strangler:tls-check')).toBe('ok');
    } finally {
      redis.disconnect();
    }
  });

  it('a certificate it cannot verify is a plain message naming the cause and REDIS_CA_FILE', async () => {
    for (const env of [{ REDIS_URL: server.tlsUrl }, { REDIS_URL: server.tlsUrl, REDIS_CA_FILE: ca.otherCaFile }]) {
      const err = await connectRedis(readRedisSettings(env), 3000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Unreachable);
      expect((err as Error).message).toMatch(/^Cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+\/?: .*(certificate|verify).*The TLS handshake failed: set REDIS_CA_FILE to the CA that signed the server's certificate\.$/s);
    }
  });

  it('a plain-text client on the TLS port is not mistaken for success', async () => {
    const plain = server.tlsUrl.replace('rediss://', 'redis://');
    const err = await connectRedis(plain, 1500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
  });
});

/** A new request for `service`, as the desk would create it. */
function draftRequest(service: string) {
  const { id: _id, status: _status, ...draft } = weightRequestAt(Date.now(), 'requested');
  return { ...draft, change: { ...draft.change, service } } as Parameters<RequestStore['create']>[0];
}

describe('request writes on a Redis without replicas', () => {
  it('do not wait and do not warn: there is no replica to wait for', async () => {
    const server = await startRedisServer();
    const redis = await connectRedis(server.url);
    try {
      const shortfalls: Array<[number, number]> = [];
      const store = new RequestStore(redis, undefined, undefined, { replicas: 1, timeoutMs: 2000, onShortfall: (a, w) => shortfalls.push([a, w]) });
      const t0 = performance.now();
      const r = await store.create(draftRequest('api'));
      await store.apply(r.id, { type: 'cancel', by: 'U0ALICE', at: Date.now() });
      // A WAIT here would have taken its whole 2 s timeout, twice.
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(shortfalls).toEqual([]);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});

describe('request writes wait for a replica (Redis WAIT) where a failover could lose them', () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await startSentinelGroup();
  });
  afterAll(async () => {
    await group?.replica.resume();
    await group?.stop();
  });

  it('with the replica up a write returns once it holds it; with the replica stalled, after the timeout, saying so', async () => {
    const redis = await connectRedis(readRedisSettings({ REDIS_SENTINELS: group.sentinelList, REDIS_SENTINEL_NAME: group.name }));
    const shortfalls: Array<[number, number]> = [];
    const store = new RequestStore(redis, undefined, undefined, { replicas: 1, timeoutMs: 400, onShortfall: (acked, wanted) => shortfalls.push([acked, wanted]) });
    const replica = new Redis(group.replica.url);
    try {
      const first = await store.create(draftRequest('api'));
      expect(shortfalls).toEqual([]);
      // Written before create() returned, so the replica already has it.
      expect(await replica.get(`strangler:request:${first.id}`)).not.toBeNull();

      await group.replica.pause();
      const t0 = performance.now();
      await store.create(draftRequest('web'));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(350);
      expect(shortfalls).toEqual([[0, 1]]);
    } finally {
      await group.replica.resume();
      replica.disconnect();
      redis.disconnect();
    }
  });
});
