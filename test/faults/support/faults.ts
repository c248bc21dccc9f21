/**
 * Shared pieces of the fault suite: telling a clear answer from an internal error leaking into
 * Slack, and (re-exported) extra services and reading a request's life off its approval message.
 */
import { expect } from 'vitest';
import type { BotHarness } from '../../support/bot-harness.js';
import { renderedText, type StoredMessage } from '../../support/slack-stand-in.js';

export { batchesFor, configWith, type ExtraService, openRequest, seedServices, weightsOf } from './services.js';
export { expectForwardOnly, phases } from '../../support/approval-phases.js';

/** What the bot says whenever its Redis is out of reach (src/slack/command-router.ts asUserError). */
export const REDIS_DOWN = 'The bot cannot reach its Redis store right now';

// ---- answers people see ----------------------------------------------------------------------

const INTERNALS = [
  /\n\s+at \S/, // a stack frame
  /\b(Type|Reference|Range)?Error:/,
  /ECONNREFUSED|ECONNRESET|EPIPE/,
  /Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|Connection is closed/i,
  /\bundefined\b|\[object Object\]/,
];

/** Fails if Slack-bound text carries a stack trace, a raw client error or a rendering slip. */
export function expectNoInternals(text: string): void {
  for (const re of INTERNALS) expect(text, `leaked internals (${re}) in: ${text}`).not.toMatch(re);
}

export function messageText(m: StoredMessage | undefined): string {
  return m ? renderedText(m) : '';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls the bot's /readyz until it says ready (its Redis connection is back). */
export async function waitReady(h: BotHarness, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${h.baseUrl}/readyz`);
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`bot not ready after ${timeoutMs} ms (${last})`);
}
