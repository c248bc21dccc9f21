/**
 * A request's life as its approval message shows it: the phase each version of the message was
 * in, read from its notification text (src/slack/render-request.ts), for tests that check the
 * message only moves forward and says each state once.
 */
import { expect } from 'vitest';
import type { StoredMessage } from './slack-stand-in.js';

export type Phase = 'requested' | 'applying' | 'applied' | 'failed' | 'stale' | 'rejected' | 'expired' | 'cancelled';

const RANK: Record<Phase, number> = { requested: 0, applying: 1, applied: 2, failed: 2, stale: 2, rejected: 1, expired: 1, cancelled: 1 };

/** The phase each version of the message shows, from its notification text (render-request.ts). */
export function phases(m: StoredMessage): Phase[] {
  return m.versions.map((v) => phaseOf(v.text));
}

function phaseOf(text: string): Phase {
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
