/**
 * Durations as people write them in config and commands: "30s", "2m", "15m", "1h", "1h30m".
 * Whole numbers only, units largest first, each unit at most once, so a value has one spelling
 * and formatDuration(parseDuration(x)) gives back the canonical form.
 */
import { BadDuration } from './errors.js';

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000 } as const;
type Unit = keyof typeof UNIT_MS;
const ORDER: readonly Unit[] = ['h', 'm', 's'];

/** Milliseconds in a duration; throws BadDuration saying what is wrong. Zero is refused: nothing waits for 0s. */
export function parseDuration(input: string): number {
  const text = input.trim();
  if (text === '') throw new BadDuration(input, 'it is empty');
  const parts = [...text.matchAll(/(\d+)([a-zA-Z]*)/gy)];
  const consumed = parts.reduce((n, p) => n + p[0].length, 0);
  if (parts.length === 0 || consumed !== text.length) {
    throw new BadDuration(input, /^-/.test(text) ? 'it cannot be negative' : 'it must be whole numbers each followed by s, m or h, with no spaces or decimals');
  }
  let ms = 0;
  let lastIndex = -1;
  for (const [, digits, rawUnit] of parts) {
    if (rawUnit === '') throw new BadDuration(input, `${digits} has no unit (s, m or h)`);
    const unit = rawUnit!.toLowerCase();
    if (!(unit in UNIT_MS)) throw new BadDuration(input, `"${rawUnit}" is not a unit; use s, m or h`);
    const index = ORDER.indexOf(unit as Unit);
    if (index <= lastIndex) throw new BadDuration(input, 'write each unit once, largest first (1h30m, not 30m1h)');
    lastIndex = index;
    ms += Number(digits) * UNIT_MS[unit as Unit];
  }
  if (!Number.isSafeInteger(ms)) throw new BadDuration(input, 'it is too long');
  if (ms === 0) throw new BadDuration(input, 'it must be longer than zero');
  return ms;
}

/** The canonical spelling of a duration ("1h30m", "45s"); sub-second remainders round up to a second. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  let rest = Math.ceil(ms / 1000) * 1000;
  let out = '';
  for (const unit of ORDER) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return out;
}
