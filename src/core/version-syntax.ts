/**
 * What a version given to the tandem-deploy gate may look like, and when two versions are the
 * same. Pure and dependency-free: the CLI bundles it without any of the bot.
 *
 * The characters a git sha, a semver (with pre-release and build metadata), a container image
 * tag or a shortened digest (`sha256:0123abcd…`, as Deployment sources report one) may hold:
 * letters, digits, `.`, `_`, `-`, `+`, `:`, starting with a letter or digit, at most 128 long.
 * Anything else (spaces, slashes, quotes, a shell variable that expanded to nothing) is
 * refused before the bot is asked.
 */
export const VERSION_SYNTAX = /^[A-Za-z0-9][A-Za-z0-9._+:-]{0,127}$/;

export const VERSION_SYNTAX_TEXT = 'letters, digits and . _ - + : (starting with a letter or digit, at most 128 characters)';

export function isValidVersion(v: string): boolean {
  return VERSION_SYNTAX.test(v);
}

const GIT_SHA = /^[0-9a-f]{7,40}$/i;

/** Hex of git's lengths with at least one letter: all digits is a build number, not a sha. */
function looksLikeSha(v: string): boolean {
  return GIT_SHA.test(v) && /[a-f]/i.test(v);
}

/**
 * Equal, or the same git commit written at two lengths: CI knows the full 40-character sha while
 * image tags usually carry the short one. Only for hex strings of 7 characters or more (git's
 * shortest abbreviation) with a letter among them, so `1.2` never matches `1.2.3` nor
 * build 1234567 build 12345678.
 */
export function sameVersion(wanted: string, running: string): boolean {
  if (wanted === running) return true;
  if (!looksLikeSha(wanted) || !looksLikeSha(running)) return false;
  const [a, b] = [wanted.toLowerCase(), running.toLowerCase()];
  return a.startsWith(b) || b.startsWith(a);
}

/** Service names as the config allows them (src/config/schema.ts), so a name can be checked before asking. */
export const SERVICE_NAME_SYNTAX = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
