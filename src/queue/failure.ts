/** How an error is recorded on a request: the sentence for people, never internals. */
import type { Failure } from '../core/change-request.js';
import { StranglerError } from '../core/errors.js';

export function toFailure(err: unknown): Failure {
  if (err instanceof StranglerError) return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  return { code: 'INTERNAL', message: 'The bot hit an unexpected error while applying.', hint: 'Check `/strangle status` to see what is in place; the bot logs have the details.' };
}
