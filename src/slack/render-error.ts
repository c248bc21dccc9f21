/** A private answer to a command that could not be done: what is wrong, then what to do. */
import { StranglerError } from '../core/errors.js';
import { type SlackMessage, context, section } from './blocks.js';

export function renderError(err: unknown): SlackMessage {
  if (err instanceof StranglerError) {
    return {
      text: err.message,
      blocks: [section(`:warning: ${err.message}`), ...(err.hint ? [context(err.hint)] : [])],
    };
  }
  // Unknown errors are logged with detail by the caller; the user gets no internals.
  const message = 'Something went wrong on the bot side, and nothing was changed.';
  return { text: message, blocks: [section(`:x: ${message}`), context('Try again; if it keeps failing, the bot logs say why.')] };
}
