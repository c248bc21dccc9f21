/**
 * Takes the user and password out of every URL in a text. Error texts from HTTP clients quote
 * the URL they were given (Node's fetch refuses a URL with credentials by quoting it whole), and
 * those texts go to Slack and the log, where a password must never appear.
 */

// Up to the last `@` before the path: a password may itself hold an `@` or a `:`.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

/** `http://user:pass@host/x` → `http://…@host/x`; a text without such URLs is returned as it is. */
export function redactUrlCredentials(text: string): string {
  return text.replace(USERINFO, '$1…@');
}
