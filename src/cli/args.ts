/**
 * The CLI's arguments and environment, parsed without side effects (node:util parseArgs), so
 * every refusal is a unit-tested sentence. Nothing here may import the bot: dist/cli.mjs is a
 * small bundle of node built-ins and these files.
 */
import { parseArgs } from 'node:util';
import { HEADER_TOKEN_RULE, headerSafeToken } from '../core/header-token.js';
import { isValidVersion, SERVICE_NAME_SYNTAX, VERSION_SYNTAX_TEXT } from '../core/version-syntax.js';

export type Side = 'both' | 'kubernetes' | 'ec2';

export interface WaitOptions {
  readonly service: string;
  readonly version: string;
  readonly side: Side;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

export const USAGE = `usage: strangler wait-for-version <service> <version> [--side both|kubernetes|ec2] [--timeout 20m] [--interval 10s]

Waits until the service runs <version> on the given side(s), as strangler's last drift check saw it.
Reads STRANGLER_URL (the bot's base URL) and STRANGLER_API_TOKEN (one of its STRANGLER_API_TOKENS).
Exit codes: 0 the side(s) run it; 1 timed out (prints what each side runs); 2 bad input, unknown
service or refused credentials.`;

/** Bad input: the message goes to stderr with the usage line, exit code 2. */
export class UsageError extends Error {}

export type Command = { readonly kind: 'help' } | { readonly kind: 'wait'; readonly options: WaitOptions };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `20m`, `90s`, `1h`, `500ms`; a bare number is seconds. */
export function parseDuration(raw: string, name: string): number {
  const m = /^(\d{1,9})(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`--${name} must be a duration like 30s, 20m or 1h, got "${raw}"`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (ms <= 0) throw new UsageError(`--${name} must be longer than 0, got "${raw}"`);
  return ms;
}

export function parseCli(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        side: { type: 'string', default: 'both' },
        timeout: { type: 'string', default: '20m' },
        interval: { type: 'string', default: '10s' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    // parseArgs's messages name the option ("Unknown option '--sied'"); only its hint about `--` is noise.
    throw new UsageError(String((err as Error).message).replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [command, service, version, ...extra] = positionals;
  if (command === undefined) throw new UsageError('no command given');
  if (command !== 'wait-for-version') throw new UsageError(`unknown command "${command}": the only one is wait-for-version`);
  if (service === undefined || version === undefined) throw new UsageError('wait-for-version needs a service and a version');
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!SERVICE_NAME_SYNTAX.test(service)) throw new UsageError(`"${service}" is not a service name (letters, digits, - and _)`);
  if (!isValidVersion(version)) throw new UsageError(`"${version}" is not a version: use ${VERSION_SYNTAX_TEXT}`);
  const side = values.side;
  if (side !== 'both' && side !== 'kubernetes' && side !== 'ec2') throw new UsageError(`--side must be both, kubernetes or ec2, got "${side}"`);
  const timeoutMs = parseDuration(values.timeout, 'timeout');
  const intervalMs = parseDuration(values.interval, 'interval');
  return { kind: 'wait', options: { service, version, side, timeoutMs, intervalMs } };
}

export interface Target {
  /** The endpoint for the service, under STRANGLER_URL (which may carry a path prefix). */
  readonly url: URL;
  readonly token: string;
}

/** STRANGLER_URL and STRANGLER_API_TOKEN; refusals never quote the token. */
export function readTarget(env: NodeJS.ProcessEnv, service: string): Target {
  const base = env.STRANGLER_URL?.trim();
  if (!base) throw new UsageError("STRANGLER_URL is not set: set it to the bot's base URL, e.g. https://strangler.internal.example.com");
  let url: URL;
  try {
    url = new URL(base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new UsageError(`STRANGLER_URL is not a URL: "${base}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`STRANGLER_URL must be http:// or https://, got "${url.protocol}"`);
  if (url.username || url.password) throw new UsageError('STRANGLER_URL must not carry credentials: put the token in STRANGLER_API_TOKEN');
  const token = env.STRANGLER_API_TOKEN?.trim();
  if (!token) throw new UsageError('STRANGLER_API_TOKEN is not set: set it to one of the tokens in the bot’s STRANGLER_API_TOKENS');
  if (/\s/.test(token)) throw new UsageError('STRANGLER_API_TOKEN contains whitespace; check how it was set');
  if (!headerSafeToken(token)) {
    throw new UsageError(`STRANGLER_API_TOKEN has a character an HTTP header cannot carry (an accented letter, a typographic quote…): ${HEADER_TOKEN_RULE}; check how it was set`);
  }
  return { url: new URL(`api/v1/services/${encodeURIComponent(service)}/versions`, url), token };
}
