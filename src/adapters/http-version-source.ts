import { Unreachable } from '../core/errors.js';
import type { VersionReading, VersionSource } from '../core/ports.js';
import { connectionProblem } from './connection-problem.js';

export interface HttpVersionSourceOptions {
  /** e.g. http://10.0.3.12:8080/version */
  readonly url: string;
  /** Dot path into a JSON body (`commit`, `build.sha`); absent: the whole body, trimmed. */
  readonly field?: string;
  /** Whole request including the body; default 5000. */
  readonly timeoutMs?: number;
  /** Bodies larger than this are refused rather than buffered; default 64 KiB. */
  readonly maxBytes?: number;
}

export const DEFAULT_HTTP_VERSION_TIMEOUT_MS = 5_000;
export const DEFAULT_HTTP_VERSION_MAX_BYTES = 64 * 1024;
const MAX_BARE_VERSION = 200;

/**
 * The version an EC2 service reports on an HTTP endpoint. Every failure is Unreachable: a
 * version endpoint that answers 503 or a body without the field during a deploy is as
 * transient as one that refuses connections, and the drift watcher should simply try again.
 * Messages start with the URL and never carry a stack trace or the body.
 */
export class HttpVersionSource implements VersionSource {
  readonly description: string;
  private readonly url: string;
  private readonly field: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(opts: HttpVersionSourceOptions) {
    this.url = opts.url;
    this.field = opts.field;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_HTTP_VERSION_TIMEOUT_MS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_HTTP_VERSION_MAX_BYTES;
    this.description = redact(opts.url);
  }

  async read(): Promise<VersionReading> {
    const body = await this.fetchBody();
    if (this.field === undefined) {
      const version = body.trim();
      if (!version) throw this.fail('empty body');
      // A wrong URL usually answers with an HTML page; that must not land in Slack as "the version".
      if (version.length > MAX_BARE_VERSION || /[\r\n<]/.test(version)) {
        throw this.fail(`body is not a bare version (${Buffer.byteLength(version)} bytes); set a JSON field if the endpoint returns JSON`);
      }
      return { version };
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw this.fail(`body is not JSON (looking for field \`${this.field}\`)`);
    }
    const value = pick(json, this.field);
    if (value === undefined || value === null) throw this.fail(`field \`${this.field}\` missing`);
    if (typeof value !== 'string' && typeof value !== 'number') throw this.fail(`field \`${this.field}\` is not a string`);
    const version = String(value).trim();
    if (!version) throw this.fail(`field \`${this.field}\` is empty`);
    return { version };
  }

  private async fetchBody(): Promise<string> {
    // One signal for connect, headers and body: a server that trickles its body still times out.
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const { url, authorization } = splitCredentials(this.url);
      const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
      if (authorization) headers.authorization = authorization;
      const res = await fetch(url, { signal, headers, redirect: 'follow' });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw this.fail(`HTTP ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > this.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw this.fail(`response larger than ${kib(this.maxBytes)}`);
      }
      return await this.readCapped(res);
    } catch (err) {
      if (err instanceof Unreachable) throw err;
      throw this.fail(connectionProblem(err, this.timeoutMs) ?? 'request failed', err);
    }
  }

  private async readCapped(res: Response): Promise<string> {
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw this.fail(`response larger than ${kib(this.maxBytes)}`);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private fail(reason: string, cause?: unknown): Unreachable {
    return new Unreachable(`${this.description}: ${reason}`, cause);
  }
}

function pick(json: unknown, path: string): unknown {
  let cur: unknown = json;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** fetch refuses URLs with user:pass@ outright, so they travel as Basic auth instead. */
function splitCredentials(raw: string): { url: string; authorization?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { url: raw };
  }
  if (!u.username && !u.password) return { url: raw };
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: `Basic ${basic}` };
}

/** Credentials in a configured URL must not end up in Slack. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

function kib(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

