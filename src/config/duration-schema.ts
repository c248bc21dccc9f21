/**
 * A duration field in strangler.yml ("15m"), parsed to milliseconds. BadDuration's sentence
 * becomes the field's message, so the config error names the field and says what is wrong.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../core/duration.js';
import { BadDuration } from '../core/errors.js';

/** Options bound the parsed value, with messages that name the bound in the units the reader wrote. */
export function durationSchema(options: { minMs?: number; maxMs?: number } = {}) {
  return z.string({ error: 'must be a duration such as "30s", "2m" or "1h30m"' }).transform((text, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (err) {
      if (!(err instanceof BadDuration)) throw err;
      ctx.addIssue({ code: 'custom', message: `${err.message} ${err.hint ?? ''}`.trim() });
      return z.NEVER;
    }
    if (options.minMs !== undefined && ms < options.minMs) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${describeMs(options.minMs)}, got "${text}"` });
      return z.NEVER;
    }
    if (options.maxMs !== undefined && ms > options.maxMs) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${describeMs(options.maxMs)}, got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });
}

function describeMs(ms: number): string {
  return ms % 1000 === 0 ? formatDuration(ms) : `${ms} ms`;
}
