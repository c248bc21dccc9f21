/**
 * A ramp's plan: the Kubernetes shares to step through, how long each bakes, which gates judge
 * it and what a breach does. Pure: built from the service's config (or inline steps that reuse
 * its gates) and the split the service has now, or refused with a RampRefused that says why.
 */
import { bakeOutOfBounds } from './bake-bounds.js';
import { parseDuration } from './duration.js';
import { RampRefused } from './errors.js';
import type { Gate } from './gate.js';
import { largestAllowed } from './step-policy.js';

export type OnFailure = 'rollback' | 'pause';

export interface RampPlan {
  /** Kubernetes share after each step, strictly moving from the split before the ramp. */
  readonly steps: readonly number[];
  readonly bakeMs: number;
  readonly onFailure: OnFailure;
  readonly gates: readonly Gate[];
}

/** `services.<name>.ramp` as the config schema gives it (the bake already in milliseconds). */
export interface RampSettings {
  readonly steps?: readonly number[] | undefined;
  readonly bakeMs?: number | undefined;
  readonly onFailure: OnFailure;
  readonly gates: readonly Gate[];
  readonly allowWithoutGates: boolean;
}

/** What `/strangle api ramp 20 40 60 every 10m` gives: steps, and a bake when `every` was said. */
export interface InlineRamp {
  /** Absent: the configured steps (`/strangle api ramp every 2m`). */
  readonly steps?: readonly number[] | undefined;
  readonly bake?: string | undefined;
}

const CONFIG_HINT = (service: string) =>
  `Add \`services.${service}.ramp\` (steps, bake, onFailure, gates) to strangler.yml, or give steps inline: \`/strangle ${service} ramp 20 40 60 every 10m\`.`;

/**
 * @param fromPercent the Kubernetes share now (before the ramp)
 * @param maxStep the service's largest allowed move per step
 */
export function buildRampPlan(service: string, fromPercent: number, maxStep: number, settings: RampSettings | undefined, inline?: InlineRamp): RampPlan {
  const steps = inline?.steps !== undefined && inline.steps.length > 0 ? inline.steps : settings?.steps;
  if (steps === undefined || steps.length === 0) {
    throw new RampRefused(`\`${service}\` has no ramp configured and no steps were given.`, CONFIG_HINT(service));
  }
  let bakeMs: number | undefined;
  if (inline?.bake !== undefined) {
    bakeMs = parseDuration(inline.bake);
    const outOfBounds = bakeOutOfBounds(bakeMs);
    if (outOfBounds !== undefined) throw new RampRefused(`\`every ${inline.bake}\` cannot be the bake of the ramp of \`${service}\`: ${outOfBounds}.`);
  } else {
    bakeMs = settings?.bakeMs;
  }
  if (bakeMs === undefined) {
    throw new RampRefused(`Say how long each step of the ramp of \`${service}\` bakes: add \`every 10m\` or set \`services.${service}.ramp.bake\`.`);
  }
  assertStepsMove(service, fromPercent, steps, maxStep);
  const gates = settings?.gates ?? [];
  if (gates.length === 0 && !(settings?.allowWithoutGates ?? false)) {
    throw new RampRefused(
      `\`${service}\` has no gates, so a ramp would watch nothing and could not stop itself.`,
      `Add \`services.${service}.ramp.gates\`, or set \`services.${service}.ramp.allowWithoutGates: true\` to ramp unwatched.`,
    );
  }
  return { steps: [...steps], bakeMs, onFailure: settings?.onFailure ?? 'rollback', gates };
}

/** Every step whole, 0-100, strictly on from the one before toward the last, none bigger than maxStep. */
function assertStepsMove(service: string, fromPercent: number, steps: readonly number[], maxStep: number): void {
  const target = steps[steps.length - 1]!;
  for (const s of steps) {
    if (!Number.isInteger(s) || s < 0 || s > 100) throw new RampRefused(`\`${s}\` is not a step: each is the Kubernetes share after it, a whole number from 0 to 100.`);
  }
  if (target === fromPercent) {
    throw new RampRefused(`\`${service}\` already sends ${fromPercent}% to Kubernetes, where this ramp would end; there is nothing to ramp.`);
  }
  const up = target > fromPercent;
  let previous = fromPercent;
  for (const [i, s] of steps.entries()) {
    const forward = up ? s > previous : s < previous;
    if (!forward) {
      throw new RampRefused(
        `Step ${i + 1} (${s}%) does not move on from ${previous}%: the steps must go strictly ${up ? 'up' : 'down'} from the current ${fromPercent}% to ${target}%.`,
      );
    }
    if (Math.abs(s - previous) > maxStep) {
      throw new RampRefused(
        `Step ${i + 1} jumps from ${previous}% to ${s}%, more than \`${service}\`'s maxStep of ${maxStep} points.`,
        `Add a step in between: from ${previous}% the largest allowed is ${largestAllowed(previous, s, maxStep)}%.`,
      );
    }
    previous = s;
  }
}

/** `0 → 10 → 25 → 50`: the path from the split before the ramp. */
export function describeSteps(fromPercent: number, steps: readonly number[]): string {
  return [fromPercent, ...steps].map((s) => `${s}%`).join(' → ');
}
