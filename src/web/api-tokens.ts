/**
 * Bearer tokens of the HTTP API (STRANGLER_API_TOKENS). Tokens are kept only as SHA-256 digests
 * and a presented token is compared with every one of them in constant time: the time an answer
 * takes says nothing about how much of a token was right, nor which token matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigInvalid } from '../core/errors.js';
import { HEADER_TOKEN_RULE, headerSafeToken } from '../core/header-token.js';

/** A guessable token would make the rate limit the only defence; 16 characters is the floor. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * The comma-separated list, blanks around commas ignored. Empty or unset: no tokens, the API is
 * off. A short token is refused naming its position, never its value.
 */
export function parseApiTokens(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const tokens = raw.split(',').map((t) => t.trim());
  const problems: string[] = [];
  tokens.forEach((t, i) => {
    if (t === '') problems.push(`STRANGLER_API_TOKENS: token ${i + 1} is empty (a stray comma?)`);
    else if (t.length < MIN_TOKEN_LENGTH) problems.push(`STRANGLER_API_TOKENS: token ${i + 1} has ${t.length} characters; use at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 32)`);
    else if (/\s/.test(t)) problems.push(`STRANGLER_API_TOKENS: token ${i + 1} contains whitespace`);
    else if (!headerSafeToken(t)) problems.push(`STRANGLER_API_TOKENS: token ${i + 1} has a character an Authorization header cannot carry: ${HEADER_TOKEN_RULE}`);
  });
  if (problems.length) throw new ConfigInvalid('The environment', problems);
  return [...new Set(tokens)];
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The token out of an `Authorization: Bearer …` header; undefined when there is none. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value ?? '');
  return m?.[1];
}

export class ApiTokens {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /**
   * The matching token's identity for rate limiting (a digest prefix: stable, and useless to
   * anyone reading Redis), or undefined. Every token is compared, match or not.
   */
  identify(presented: string | undefined): string | undefined {
    if (presented === undefined) return undefined;
    const d = digest(presented);
    let found: Buffer | undefined;
    for (const known of this.digests) {
      if (timingSafeEqual(d, known)) found = known;
    }
    return found?.subarray(0, 12).toString('hex');
  }
}
