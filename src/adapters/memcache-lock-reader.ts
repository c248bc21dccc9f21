import memjs from 'memjs';
import type { Client } from 'memjs';
import { Unreachable } from '../core/errors.js';
import type { LockReader } from '../core/ports.js';

export interface MemcacheLockReaderOptions {
  /** "host:port,host:port" as memjs takes it (credentials as user:pass@host:port). */
  readonly servers: string;
  /** Per-operation timeout; default 500 ms (memjs' default). Connect timeout is twice this. */
  readonly timeoutMs?: number;
  /**
   * Attempts per operation, memjs-style: 2 means one try and one retry. memjs treats 0 as
   * "use the default" (2), so 1 is the smallest meaningful value.
   */
  readonly retries?: number;
  /** memjs logs every failed operation through console by default; pass a logger to route it. */
  readonly log?: (message: string) => void;
}

/**
 * Reads the locks the cron.d jobs on EC2 take with `add(key, holder, {expires})`.
 * Read-only on purpose: the bot must never take or break a lock a job holds.
 */
export class MemcacheLockReader implements LockReader {
  private readonly client: Client;
  private readonly where: string;

  constructor(opts: MemcacheLockReaderOptions) {
    const log = opts.log ?? (() => undefined);
    this.client = memjs.Client.create(opts.servers, {
      timeout: (opts.timeoutMs ?? 500) / 1000,
      retries: Math.max(1, opts.retries ?? 2),
      retry_delay: 0.1,
      logger: { log: (...args: unknown[]) => log(args.map(String).join(' ')) },
    });
    this.where = redact(opts.servers);
  }

  /** The holder written in the lock, or null when the key is absent (the lock is free). An empty value still means "held". */
  async holder(key: string): Promise<string | null> {
    let value: Buffer | null;
    try {
      ({ value } = await this.client.get(key));
    } catch (err) {
      // memjs reports the server's own refusals ("MemJS GET: Invalid arguments", e.g. a key
      // over 250 bytes) the same way as network failures; only the latter are worth a retry.
      if (err instanceof Error && err.message.startsWith('MemJS GET:')) {
        throw new Error(`Memcache at ${this.where} refused to read the lock \`${key}\`: ${err.message.slice('MemJS GET:'.length).trim()}.`, { cause: err });
      }
      throw new Unreachable(`Memcache at ${this.where} is unreachable (${reason(err)}), so the lock \`${key}\` could not be checked.`, err);
    }
    return value === null ? null : value.toString('utf8').trim();
  }

  close(): void {
    this.client.close();
  }
}

function reason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e && e.code === 'ECONNREFUSED') return 'connection refused';
  if (e && (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')) return 'host not found';
  if (e && e.code === 'ECONNRESET') return 'connection reset';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  if (/timed out connecting/i.test(msg)) return 'connect timed out';
  if (/timed out/i.test(msg)) return 'timed out';
  if (/No servers available/i.test(msg)) return 'no servers available';
  return msg.split('\n')[0] ?? msg;
}

function redact(servers: string): string {
  return servers
    .split(',')
    .map((s) => s.slice(s.lastIndexOf('@') + 1))
    .join(',');
}
