/**
 * What a bearer token may hold: visible ASCII (letters, digits, punctuation). fetch refuses a
 * header with a character above U+00FF (a ByteString TypeError, which looks like network
 * trouble), and one from U+0080 to U+00FF is sent as one byte by some clients and as UTF-8 by
 * others, so it would match on one and not the other. Shared by the CLI and the API so that
 * both refuse the same tokens, up front.
 */
const VISIBLE_ASCII = /^[\x21-\x7E]+$/;

export function headerSafeToken(token: string): boolean {
  return VISIBLE_ASCII.test(token);
}

/** Why a token is refused, never quoting it. */
export const HEADER_TOKEN_RULE = 'a token is visible ASCII only (letters, digits and punctuation, e.g. from openssl rand -hex 32)';
