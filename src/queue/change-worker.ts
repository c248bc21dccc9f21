/**
 * The worker: the only writer to Route 53 and Kubernetes. It turns each job into a request's
 * final state, and every final state into an updated Slack message. Retryable trouble
 * (throttling, an unreachable API) is handed back to BullMQ for backoff until attempts run out;
 * everything else ends the request with a message a person can act on.
 */
import { DelayedError, type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChangeRequest } from '../core/change-request.js';
import { targetName } from '../core/change-request.js';
import { toFailure } from './failure.js';
import { isRetryable, RequestClosed, StranglerError } from '../core/errors.js';
import type { Clock, RequestDisplay } from '../core/ports.js';
import type { Logger } from '../log.js';
import { isRedisDown } from '../redis-connection.js';
import type { RequestStore } from '../store/request-store.js';
import { CHANGE_QUEUE, type ChangeJobData, type ChangeJobName, type ChangeQueue } from './change-queue.js';
import { RampWaits } from './ramp-waits.js';

/** Longer than the web side's quick message update (3 s) before it queues an approval. */
const FRESH_APPROVAL_MS = 5_000;

export interface WorkerDeps {
  readonly connection: Redis;
  readonly store: RequestStore;
  readonly queue: ChangeQueue;
  /** Shows each request's state where people see it (Slack's approval message). */
  readonly display: RequestDisplay;
  readonly clock: Clock;
  readonly log: Logger;
  readonly lockDurationMs: number;
  /** Applies an approved request of any kind and returns it in its final state. */
  readonly apply: (r: ChangeRequest) => Promise<ChangeRequest>;
  /** Called once a request is applied (cron moves schedule their witness here). */
  readonly afterApplied?: (r: ChangeRequest) => Promise<void>;
  readonly witness?: (requestId: number) => Promise<void>;
  readonly drift?: () => Promise<unknown>;
  /** The out-of-band weight check's tick. */
  readonly outside?: () => Promise<unknown>;
  /** The scheduled progress report (config `report`). */
  readonly report?: () => Promise<unknown>;
}

export class ChangeWorker {
  readonly worker: Worker<ChangeJobData, unknown, ChangeJobName>;

  constructor(private readonly deps: WorkerDeps) {
    this.worker = new Worker<ChangeJobData, unknown, ChangeJobName>(CHANGE_QUEUE, (job, token) => this.process(job, token), {
      connection: deps.connection,
      concurrency: 4,
      lockDuration: deps.lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(deps.lockDurationMs / 2)),
      // A job whose worker died is run again, twice at most; a third death means something is
      // wrong with the job (the sweep still re-queues its request later).
      maxStalledCount: 2,
    });
    this.worker.on('error', (err) => deps.log.error({ err: err.message }, 'worker connection error'));
  }

  private async process(job: Job<ChangeJobData, unknown, ChangeJobName>, token?: string): Promise<void> {
    switch (job.name) {
      case 'apply':
        return this.applyJob(job, token);
      case 'expire':
        return this.expire(job.data.requestId ?? -1);
      case 'sweep':
        return this.sweep();
      case 'witness':
        return this.deps.witness?.(job.data.requestId ?? -1);
      case 'drift':
        await this.deps.drift?.();
        return;
      case 'outside':
        await this.deps.outside?.();
        return;
      case 'report':
        await this.deps.report?.();
        return;
    }
  }

  private async applyJob(job: Job<ChangeJobData, unknown, ChangeJobName>, token?: string): Promise<void> {
    const { store, display, log } = this.deps;
    const id = job.data.requestId ?? -1;
    const r0 = await store.get(id);
    if (!r0) return;
    if (r0.status !== 'approved' && r0.status !== 'applying') {
      // A re-run after the worker died between the final transition and telling Slack.
      if (r0.status === 'applied' || r0.status === 'failed' || r0.status === 'stale') await this.finish(r0);
      return;
    }
    const ctx = { requestId: id, target: targetName(r0.change), attempt: job.attemptsMade + 1 };
    // A baking ramp's job runs once per gate reading: its own transitions are logged by the store.
    if (r0.ramp?.phase === 'baking') log.debug(ctx, 'ramp bake tick');
    else log.info(ctx, 'applying');
    // Shown here when the web side's one quick attempt did not land (or the sweep queued the job),
    // so each state reaches the message once. The display chains the updates of a request, so
    // this can never land after "applied"; not awaited, so a slow Slack does not delay the change.
    if (!job.data.approvalShown) void display.showRequest(r0);
    let done: ChangeRequest;
    try {
      done = await this.deps.apply(r0);
    } catch (err) {
      if (err instanceof RampWaits) return this.rampWaits(job, token, err);
      if (err instanceof RequestClosed) {
        // Another run of this job (one whose worker only looked dead) finished it first.
        await this.finish(await store.mustGet(id));
        return;
      }
      if (r0.change.kind === 'ramp') {
        // A ramp never ends failed on an error: its traffic would stay mid-ramp with no gate
        // watching and the service free for other changes. Its driver pauses on a step's error;
        // what reaches here (a return to the old split, Redis down) is retried with backoff, then
        // by the sweep.
        log.warn({ ...ctx, err: (err as Error).message }, 'ramp will be retried');
        throw err;
      }
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Redis blinking mid-apply is as retryable as Route 53 throttling: the apply is re-runnable.
      if ((isRetryable(err) || isRedisDown(err)) && !lastAttempt) {
        log.warn({ ...ctx, err: (err as Error).message }, 'apply will be retried');
        throw err;
      }
      if (!(err instanceof StranglerError)) log.error({ ...ctx, err: (err as Error).stack }, 'apply failed unexpectedly');
      const current = await store.get(id);
      const failure = toFailure(err);
      // After Route 53 accepted the batch, "failed" must not read as "nothing happened".
      const submitted = current?.changeId
        ? { ...failure, message: `Route 53 accepted the change (${current.changeId}), so the new split may be in effect, but then: ${failure.message}`, hint: 'Check `/strangle status`; Roll back if needed.' }
        : failure;
      done = await store.apply(id, { type: 'failed', at: this.deps.clock.now(), failure: submitted });
    }
    // A ramp still open (paused, or let go on shutdown) has shown its state itself; a render here
    // could land after a click's.
    if (done.change.kind === 'ramp' && (done.status === 'approved' || done.status === 'applying')) return;
    await this.finish(done); // the store's listener has logged the transition
  }

  /** A baking ramp: its job sleeps in the queue as a delayed job (keeping its id, so a click finds and promotes it), not in a worker slot. */
  private async rampWaits(job: Job<ChangeJobData, unknown, ChangeJobName>, token: string | undefined, w: RampWaits): Promise<never> {
    if (!job.data.approvalShown) await job.updateData({ ...job.data, approvalShown: true });
    await job.moveToDelayed(Date.now() + w.ms, token);
    throw new DelayedError();
  }

  /** Everything owed once a request is final: its message, and for cron moves the witness. */
  private async finish(r: ChangeRequest): Promise<void> {
    await this.deps.display.showRequest(r);
    if (r.status === 'applied') await this.deps.afterApplied?.(r);
  }

  private async expire(id: number): Promise<void> {
    const r = await this.deps.store.get(id);
    if (!r || r.status !== 'requested') return;
    const now = this.deps.clock.now();
    if (now < r.expiresAt) {
      // Fired early (clocks differ between hosts): look again a little later, under a new job id.
      await this.deps.queue.scheduleExpiry(id, Math.max(r.expiresAt + 1, now + 1000));
      return;
    }
    const expired = await this.deps.store.apply(id, { type: 'expire', at: now }).catch(() => undefined);
    if (!expired) return;
    await this.deps.display.showRequest(expired);
  }

  /** Re-queues work a dead process left behind and expires what a lost timer missed. */
  async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    for (const r of await this.deps.store.openRequests()) {
      if (r.status === 'requested' && now >= r.expiresAt) await this.expire(r.id);
      else if (r.status === 'requested') await this.deps.queue.scheduleExpiry(r.id, r.expiresAt);
      // A fresh approval is being queued by the web side right now (after its message update).
      else if (r.status === 'approved' && r.decidedAt !== undefined && now - r.decidedAt < FRESH_APPROVAL_MS) continue;
      // A paused ramp waits for a person (Resume, Abort), whose click queues it again.
      else if (r.ramp?.phase === 'paused') continue;
      else await this.deps.queue.enqueueApply(r.id);
    }
  }

  async close(force = false): Promise<void> {
    await this.worker.close(force);
  }
}
