/**
 * A ramp's plan: the Kubernetes shares to step through, how long each bakes, which gates judge
 * it and what a breach does. Pure: built from the service's config (or inline steps that reuse
 * its gates) and the split the service has now, or refused with a RampRefused that says why.
 */
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

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000 };
/** A day: a longer bake is almost certainly a typo (`15h` for `15m`). */
const MAX_BAKE_MS = 24 * 3_600_000;

/** `30s`, `2m`, `1h`, `1h30m`: milliseconds, or undefined when it is not such a duration. */
export function parseBake(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (!/^(\d{1,6}[smh])+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+)([smh])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return ms > 0 && ms <= MAX_BAKE_MS ? ms : undefined;
}

export function formatBake(ms: number): string {
  const parts: string[] = [];
  let left = Math.round(ms / 1000);
  for (const [unit, size] of [['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(left / size);
    if (n > 0) parts.push(`${n}${unit}`);
    left -= n * size;
  }
  return parts.length ? parts.join('') : '0s';
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
    bakeMs = parseBake(inline.bake);
    if (bakeMs === undefined) throw new RampRefused(`\`${inline.bake.slice(0, 20)}\` is not a bake time: use s, m or h, like \`30s\`, \`10m\` or \`1h\` (at most 24h).`);
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

/** `≤ 0.01`, `≥ 0.99`, `between 0.9 and 1` */
export function describeBound(gate: Pick<Gate, 'min' | 'max'>): string {
  if (gate.min !== undefined && gate.max !== undefined) return `between ${gate.min} and ${gate.max}`;
  if (gate.max !== undefined) return `≤ ${gate.max}`;
  return `≥ ${gate.min}`;
}
