/**
 * Redis connections, to one server (`redis://`, or `rediss://` over TLS) or to a Sentinel group's
 * current master. The app's own connection fails fast while Redis is away (so a click gets "try
 * again" instead of hanging, and /readyz says not ready); BullMQ's worker needs one that waits.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigInvalid, Unreachable } from './core/errors.js';

export type RedisSettings =
  | { readonly kind: 'url'; readonly url: string; readonly ca?: Buffer }
  | { readonly kind: 'sentinel'; readonly sentinels: ReadonlyArray<{ host: string; port: number }>; readonly name: string };

/**
 * From the environment: REDIS_URL (default redis://127.0.0.1:6379) with REDIS_CA_FILE for a
 * private CA, or REDIS_SENTINELS=host:port,… with REDIS_SENTINEL_NAME. Every problem at once.
 */
export function readRedisSettings(env: NodeJS.ProcessEnv): RedisSettings {
  const problems: string[] = [];
  if (env.REDIS_SENTINELS) {
    const sentinels = env.REDIS_SENTINELS.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
      const m = /^([^:\s]+):(\d{1,5})$/.exec(entry);
      if (!m || Number(m[2]) > 65535) problems.push(`REDIS_SENTINELS: "${entry}" is not host:port`);
      return { host: m?.[1] ?? '', port: Number(m?.[2] ?? 0) };
    });
    if (sentinels.length === 0) problems.push('REDIS_SENTINELS: list at least one host:port');
    if (!env.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor the master by)');
    if (env.REDIS_URL) problems.push('REDIS_URL: set it or REDIS_SENTINELS, not both');
    // Not offered rather than half-done: TLS and passwords through Sentinel are not tested here.
    if (env.REDIS_CA_FILE) problems.push('REDIS_CA_FILE: TLS through Sentinel is not supported; use REDIS_URL=rediss://… for TLS');
    if (problems.length > 0) throw new ConfigInvalid('The environment', problems);
    return { kind: 'sentinel', sentinels, name: env.REDIS_SENTINEL_NAME! };
  }
  const url = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url)) problems.push('REDIS_URL: must start with redis:// or rediss:// (TLS)');
  let ca: Buffer | undefined;
  if (env.REDIS_CA_FILE) {
    if (!url.startsWith('rediss://')) problems.push('REDIS_CA_FILE: only used with a rediss:// REDIS_URL');
    try {
      ca = readFileSync(env.REDIS_CA_FILE);
    } catch (err) {
      problems.push(`REDIS_CA_FILE: cannot read ${env.REDIS_CA_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (problems.length > 0) throw new ConfigInvalid('The environment', problems);
  return { kind: 'url', url, ...(ca ? { ca } : {}) };
}

/** Where Redis is, without a password, for messages and logs. */
export function describeRedis(s: RedisSettings | string): string {
  if (typeof s === 'string') return safeRedisUrl(s);
  if (s.kind === 'url') return safeRedisUrl(s.url);
  return `Sentinel master "${s.name}" (sentinels ${s.sentinels.map((x) => `${x.host}:${x.port}`).join(', ')})`;
}

/** The URL without its password, for messages and logs. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured REDIS_URL';
  }
}

function client(s: RedisSettings | string, options: RedisOptions): Redis {
  const settings: RedisSettings = typeof s === 'string' ? { kind: 'url', url: s } : s;
  if (settings.kind === 'sentinel') {
    // The sentinels are asked again after every lost connection, so a failover is followed
    // without a restart; they are retried every second, for ever (readiness says when they fail).
    return new Redis({ ...options, sentinels: [...settings.sentinels], name: settings.name, sentinelRetryStrategy: (times) => Math.min(times * 100, 1000) });
  }
  return new Redis(settings.url, { ...options, ...(settings.ca ? { tls: { ca: settings.ca } } : {}) });
}

export async function connectRedis(s: RedisSettings | string, timeoutMs = 5000): Promise<Redis> {
  const redis = client(s, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: timeoutMs });
  // Reconnects on its own and callers see failed commands; the last error is kept because a
  // failed first connect says only "Connection is closed", while the event says why (TLS, …).
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => (lastError = err));
  let timer: NodeJS.Timeout | undefined;
  try {
    // Bounded: through Sentinel, connect() would otherwise keep asking unreachable sentinels.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
  } catch (caught) {
    redis.disconnect();
    const err = lastError ?? caught;
    throw new Unreachable(`Cannot reach Redis at ${describeRedis(s)}: ${(err as Error).message.replace(/\.$/, '')}. ${hintFor(s, err)}`, err);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

function hintFor(s: RedisSettings | string, err: unknown): string {
  const text = `${(err as { code?: string })?.code ?? ''} ${(err as Error)?.message ?? ''}`;
  if (/certificate|CERT_|SSL|TLS|self.signed|handshake/i.test(text)) {
    return "The TLS handshake failed: set REDIS_CA_FILE to the CA that signed the server's certificate.";
  }
  if (typeof s !== 'string' && s.kind === 'sentinel') return 'Check REDIS_SENTINELS and REDIS_SENTINEL_NAME, and that the sentinels know a master by that name.';
  return 'Start Redis or set REDIS_URL.';
}

export function workerRedis(s: RedisSettings | string): Redis {
  const redis = client(s, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  return redis;
}

/** An error from the Redis client meaning Redis is out of reach (worth retrying), not a bug. */
export function isRedisDown(err: unknown): boolean {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''}`;
  return /MaxRetriesPerRequest|enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|READONLY|All sentinels are unreachable/i.test(text);
}
