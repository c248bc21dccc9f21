/**
 * The BullMQ queue every change goes through. Job ids are derived from request ids, so a
 * double click, a Slack retry or the start-up sweep adding the same job again is a no-op
 * while that job exists.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Tuning } from '../config/tuning.js';

export const CHANGE_QUEUE = 'strangler-changes';

/** How long a ramp's click waits for a running job of that ramp to let go (it reads the click itself when it runs longer). */
const WAKE_WAIT_MS = 30_000;
const WAKE_POLL_MS = 50;

export type ChangeJobName = 'apply' | 'expire' | 'sweep' | 'witness' | 'drift' | 'outside' | 'report';

export interface ChangeJobData {
  readonly requestId?: number;
  /** Apply jobs: the web side has already shown "approved, applying…" on the message. */
  readonly approvalShown?: boolean;
}

export class ChangeQueue {
  readonly queue: Queue<ChangeJobData, unknown, ChangeJobName>;

  constructor(
    connection: Redis,
    private readonly tuning: Tuning,
  ) {
    this.queue = new Queue(CHANGE_QUEUE, { connection, defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 1000 } });
  }

  async enqueueApply(requestId: number, opts: { approvalShown?: boolean } = {}): Promise<void> {
    await this.queue.add(
      'apply',
      { requestId, ...(opts.approvalShown ? { approvalShown: true } : {}) },
      {
        jobId: `apply-${requestId}`,
        attempts: this.tuning.applyAttempts,
        backoff: { type: 'exponential', delay: this.tuning.applyBackoffMs },
        // Finished jobs are dropped at once: a job id that still exists blocks adding it again, and
        // the sweep must be able to re-queue a request whose job gave up while it stayed open.
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /**
   * A click on a running ramp (Resume, Abort): its job runs now. The job may be waiting out a
   * bake as a delayed job (promoted), gone (added), or running and about to wait or end with the
   * state from before the click (waited for, then promoted or added; a run that goes on reads the
   * click itself between its steps).
   */
  async wakeApply(requestId: number, opts: { approvalShown?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + WAKE_WAIT_MS;
    for (;;) {
      const job = await this.queue.getJob(`apply-${requestId}`);
      const state = job ? await job.getState() : 'unknown';
      if (state === 'delayed') {
        const promoted = await job!.promote().then(
          () => true,
          () => false,
        );
        if (promoted) return;
      } else if (state === 'active') {
        // Let it finish its turn (it reads the click itself if it goes on).
      } else if (state === 'unknown' || state === 'completed' || state === 'failed') {
        // Gone (or going): a new job, unless the old one's id is still there a moment longer.
        await this.enqueueApply(requestId, opts);
        const added = await (await this.queue.getJob(`apply-${requestId}`))?.getState();
        if (added !== 'completed' && added !== 'failed') return;
      } else return; // waiting: it runs soon, and reads the click
      if (Date.now() >= deadline) return;
      await sleep(WAKE_POLL_MS);
    }
  }

  /** The job id carries the time, so an expiry that fired early can re-arm itself under a new id. */
  async scheduleExpiry(requestId: number, at: number): Promise<void> {
    await this.queue.add('expire', { requestId }, { jobId: `expire-${requestId}-${at}`, delay: Math.max(0, at - Date.now()), removeOnComplete: true, removeOnFail: true });
  }

  async scheduleWitness(requestId: number, at: number): Promise<void> {
    await this.queue.add('witness', { requestId }, { jobId: `witness-${requestId}`, delay: Math.max(0, at - Date.now()), removeOnComplete: true, attempts: 3, backoff: { type: 'exponential', delay: 10_000 } });
  }

  /** One sweep per interval whatever the number of replicas: a job scheduler is keyed by id. */
  async scheduleSweep(): Promise<void> {
    await this.queue.upsertJobScheduler('sweep', { every: this.tuning.sweepEveryMs }, { name: 'sweep', data: {} });
  }

  /** The drift check's tick: one job per interval, whatever the number of worker processes. */
  async scheduleDrift(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler('drift', { every: everyMs }, { name: 'drift', data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }

  /** The out-of-band weight check's tick (src/queue/outside-check.ts), like the drift check's. */
  async scheduleOutsideCheck(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler('outside', { every: everyMs }, { name: 'outside', data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }

  /**
   * The scheduled progress report: one job per cron tick whatever the number of workers. Without a
   * schedule configured, a scheduler left from an earlier configuration is removed.
   */
  async scheduleReport(schedule: { cron: string; timezone?: string | undefined } | undefined): Promise<void> {
    if (!schedule) {
      await this.queue.removeJobScheduler('report');
      return;
    }
    await this.queue.upsertJobScheduler(
      'report',
      { pattern: schedule.cron, ...(schedule.timezone ? { tz: schedule.timezone } : {}) },
      { name: 'report', data: {}, opts: { removeOnComplete: true, removeOnFail: 100, attempts: 3, backoff: { type: 'exponential', delay: 30_000 } } },
    );
  }

  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
