/**
 * Timing knobs read from the environment. The defaults suit production; tests and the sandbox
 * shorten them so a restart or a Route 53 propagation takes seconds instead of minutes.
 */
import { ConfigInvalid } from '../core/errors.js';

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigInvalid('The environment', [`${name} must be a whole number of milliseconds or a count, got "${raw}"`]);
  }
  return Number(raw.trim());
}

export interface Tuning {
  /** How often GetChange is polled while waiting for INSYNC. */
  readonly route53PollMs: number;
  /** Give up waiting for INSYNC after this long (the change may still land; the message says so). */
  readonly route53SyncTimeoutMs: number;
  /** SDK attempts per Route 53 call; Throttling and PriorRequestNotComplete are retried with backoff. */
  readonly route53MaxAttempts: number;
  /** BullMQ job lock: a job whose worker died is picked up by another after about this long. */
  readonly jobLockMs: number;
  /** Attempts of an apply job when Route 53 or Kubernetes is throttling or unreachable. */
  readonly applyAttempts: number;
  readonly applyBackoffMs: number;
  /** How often open requests are swept for lost jobs and missed expiries. */
  readonly sweepEveryMs: number;
  /** After a cron move, how long past the next scheduled run the witness looks at what happened. */
  readonly witnessDelayMs: number;
  /** On SIGTERM, how long work in flight may take before the process exits anyway. */
  readonly shutdownMs: number;
  /** Command answers worked out at once after their acks (src/slack/follow-ups.ts says why few). */
  readonly followUpConcurrency: number;
  /** Commands waiting for an answer beyond which new ones are answered "busy" in the ack. */
  readonly maxPendingCommands: number;
  /** How often live splits are compared with what the bot applied (out-of-band changes); 0 turns the check off. */
  readonly outsideCheckEveryMs: number;
  /** Requests one API token may make per window (GET /api/v1/…); over it the answer is 429. */
  readonly apiRateLimit: number;
  /** The API rate limit's window, in seconds. */
  readonly apiRateWindowSeconds: number;
  /** How often a ramp reads its gates during a bake. */
  readonly rampSampleMs: number;
  /** Longest one ramp gate reading may take; a slower source's reading is inconclusive. */
  readonly gateReadTimeoutMs: number;
}

export function readTuning(env: NodeJS.ProcessEnv = process.env): Tuning {
  return {
    route53PollMs: num(env, 'STRANGLER_ROUTE53_POLL_MS', 2000),
    route53SyncTimeoutMs: num(env, 'STRANGLER_ROUTE53_SYNC_TIMEOUT_MS', 180_000),
    route53MaxAttempts: num(env, 'STRANGLER_ROUTE53_MAX_ATTEMPTS', 8),
    jobLockMs: num(env, 'STRANGLER_JOB_LOCK_MS', 30_000),
    applyAttempts: num(env, 'STRANGLER_APPLY_ATTEMPTS', 5),
    applyBackoffMs: num(env, 'STRANGLER_APPLY_BACKOFF_MS', 5000),
    sweepEveryMs: num(env, 'STRANGLER_SWEEP_EVERY_MS', 60_000),
    witnessDelayMs: num(env, 'STRANGLER_WITNESS_DELAY_MS', 60_000),
    shutdownMs: num(env, 'STRANGLER_SHUTDOWN_MS', 25_000),
    followUpConcurrency: Math.max(1, num(env, 'STRANGLER_FOLLOW_UP_CONCURRENCY', 4)),
    maxPendingCommands: num(env, 'STRANGLER_MAX_PENDING_COMMANDS', 2000),
    outsideCheckEveryMs: num(env, 'STRANGLER_OUTSIDE_CHECK_EVERY_MS', 60_000),
    // At least 1: 0 would refuse every request, which is what unsetting STRANGLER_API_TOKENS is for.
    apiRateLimit: Math.max(1, num(env, 'STRANGLER_API_RATE_LIMIT', 60)),
    apiRateWindowSeconds: Math.max(1, num(env, 'STRANGLER_API_RATE_WINDOW_S', 60)),
    rampSampleMs: Math.max(100, num(env, 'STRANGLER_RAMP_SAMPLE_MS', 15_000)),
    gateReadTimeoutMs: Math.max(1, num(env, 'STRANGLER_GATE_READ_TIMEOUT_MS', 10_000)),
  };
}
