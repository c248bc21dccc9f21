import memjs from 'memjs';
import type { Client } from 'memjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemcacheLockReader } from '../../src/adapters/memcache-lock-reader.js';
import { Unreachable } from '../../src/core/errors.js';
import { freePort } from '../support/free-port.js';
import { startMemcachedServer, type MemcachedServer } from '../support/memcached-server.js';

describe('MemcacheLockReader against a real memcached', () => {
  let memcached: MemcachedServer;
  /** Plays the cron.d job on EC2 that takes the lock. */
  let job: Client;
  const readers: MemcacheLockReader[] = [];

  const reader = (servers = memcached.servers, timeoutMs = 300) => {
    const r = new MemcacheLockReader({ servers, timeoutMs, retries: 1 });
    readers.push(r);
    return r;
  };

  beforeAll(async () => {
    memcached = await startMemcachedServer();
    job = memjs.Client.create(memcached.servers, { logger: { log: () => undefined } });
  });

  afterEach(async () => {
    await memcached.start();
  });

  afterAll(async () => {
    for (const r of readers) r.close();
    job.close();
    await memcached.stop();
  });

  it('names the holder of a lock taken with add()', async () => {
    expect(await job.add('lock:nightly-report', 'ip-10-0-3-12 pid 4242', { expires: 60 })).toBe(true);
    expect(await reader().holder('lock:nightly-report')).toBe('ip-10-0-3-12 pid 4242');
  });

  it('decodes the holder as UTF-8', async () => {
    await job.set('lock:ünïcode', Buffer.from('hôte-ä', 'utf8'), { expires: 60 });
    expect(await reader().holder('lock:ünïcode')).toBe('hôte-ä');
  });

  it('is null when nobody holds the lock', async () => {
    expect(await reader().holder('lock:nobody-took-this')).toBeNull();
  });

  it('is null once the lease has expired', async () => {
    await job.add('lock:short-lease', 'ip-10-0-3-13', { expires: 1 });
    const r = reader();
    expect(await r.holder('lock:short-lease')).toBe('ip-10-0-3-13');
    // memcached expires on its own once-a-second clock, so "1 s" ends some time within 2 s; a busy
    // machine may be later still. Poll until it has.
    await vi.waitFor(async () => expect(await r.holder('lock:short-lease')).toBeNull(), { timeout: 10_000, interval: 100 });
  });

  it('is Unreachable, naming the servers, when nothing listens there', async () => {
    const servers = `127.0.0.1:${await freePort()}`;
    const err = await reader(servers).holder('lock:nightly-report').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Error).message).toBe(`Memcache at ${servers} is unreachable (connection refused), so the lock \`lock:nightly-report\` could not be checked.`);
  });

  it('is Unreachable when memcached goes away, and reads again once it is back', async () => {
    const r = reader();
    await job.set('lock:flaky', 'ip-10-0-3-14', { expires: 60 });
    expect(await r.holder('lock:flaky')).toBe('ip-10-0-3-14');

    await memcached.stop();
    await expect(r.holder('lock:flaky')).rejects.toBeInstanceOf(Unreachable);

    await memcached.start();
    // A restarted memcached is empty: the lock is gone with it.
    expect(await r.holder('lock:flaky')).toBeNull();
  });

  it('keeps credentials in the servers string out of messages', async () => {
    const port = await freePort();
    const err = await reader(`bot:s3cret@127.0.0.1:${port}`).holder('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain('s3cret');
  });
});
