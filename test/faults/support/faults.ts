/**
 * Shared pieces of the fault suite: reading a request's life off its approval message, telling a
 * clear answer from an internal error leaking into Slack, and (re-exported) extra services.
 */
import { expect } from 'vitest';
import type { BotHarness } from '../../support/bot-harness.js';
import { renderedText, type StoredMessage } from '../../support/slack-stand-in.js';

export { batchesFor, configWith, type ExtraService, openRequest, seedServices, weightsOf } from './services.js';

/** What the bot says whenever its Redis is out of reach (src/slack/command-router.ts asUserError). */
export const REDIS_DOWN = 'The bot cannot reach its Redis store right now';

// ---- a request's life as its approval message shows it -------------------------------------

export type Phase = 'requested' | 'applying' | 'applied' | 'failed' | 'stale' | 'rejected' | 'expired' | 'cancelled';

const RANK: Record<Phase, number> = { requested: 0, applying: 1, applied: 2, failed: 2, stale: 2, rejected: 1, expired: 1, cancelled: 1 };

/** The phase each version of the message shows, from its notification text (render-request.ts). */
export function phases(m: StoredMessage): Phase[] {
  return m.versions.map((v) => phaseOf(v.text));
}

export function phaseOf(text: string): Phase {
  if (/ waits for approval: /.test(text)) return 'requested';
  if (/ approved by .*, applying/.test(text)) return 'applying';
  if (/ applied: /.test(text)) return 'applied';
  if (/ failed: /.test(text)) return 'failed';
  if (/ is stale;/.test(text)) return 'stale';
  if (/ rejected by /.test(text)) return 'rejected';
  if (/ expired;/.test(text)) return 'expired';
  if (/ withdrawn;/.test(text)) return 'cancelled';
  throw new Error(`unrecognised approval message text: ${text}`);
}

/**
 * A message may repeat a phase (a resumed job re-renders "applying"), but never go back: an
 * "applying" that lands after "applied" would tell the channel the change is still under way.
 */
export function expectForwardOnly(m: StoredMessage, last: Phase): void {
  const seen = phases(m);
  for (let i = 1; i < seen.length; i++) {
    if (RANK[seen[i]!] < RANK[seen[i - 1]!]) throw new Error(`message ${m.ts} went back from ${seen[i - 1]} to ${seen[i]}: ${seen.join(' → ')}`);
  }
  expect(seen[0]).toBe('requested');
  expect(seen.at(-1)).toBe(last);
}

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
