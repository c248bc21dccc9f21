/**
 * How long a ramp step may bake, wherever the bake comes from (`ramp.bake` in strangler.yml or
 * `every …` in the command): the same bounds, so typing a bake cannot get round the config's.
 */
import { formatDuration } from './duration.js';

/** Below a second there is no time to read a gate even once. */
export const MIN_BAKE_MS = 1000;
/** A day: longer holds a step (and the service's one open request) past anyone watching it. */
export const MAX_BAKE_MS = 24 * 3_600_000;

/** Why a bake is out of bounds, as a sentence; undefined when it is within them. */
export function bakeOutOfBounds(ms: number): string | undefined {
  if (ms < MIN_BAKE_MS) return `a bake must be at least ${formatDuration(MIN_BAKE_MS)}`;
  if (ms > MAX_BAKE_MS) return `a bake must be at most ${formatDuration(MAX_BAKE_MS)} (${formatDuration(ms)} was given)`;
  return undefined;
}
