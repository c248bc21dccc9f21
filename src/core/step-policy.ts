/**
 * Blast radius: one request may move the Kubernetes share by at most `maxStep` points.
 * Rollbacks are exempt: undoing must never be blocked by the size of what is being undone.
 */
import { StepTooLarge } from './errors.js';

export function largestAllowed(fromPercent: number, toPercent: number, maxStep: number): number {
  return toPercent >= fromPercent ? Math.min(100, fromPercent + maxStep) : Math.max(0, fromPercent - maxStep);
}

export function assertStepAllowed(service: string, fromPercent: number, toPercent: number, maxStep: number): void {
  if (Math.abs(toPercent - fromPercent) <= maxStep) return;
  throw new StepTooLarge(service, fromPercent, toPercent, maxStep, largestAllowed(fromPercent, toPercent, maxStep));
}
