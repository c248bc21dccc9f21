/**
 * Moves a periodic job by flipping its CronJob's spec.suspend (merge patch, read back by the
 * adapter). Never creates or deletes the CronJob: deleting would kill a running Job and its
 * history, and the delivery pipeline owns the spec. Safe to re-run: a CronJob already in the
 * target state is simply verified.
 */
import type { Config } from '../config/schema.js';
import type { ChangeRequest } from '../core/change-request.js';
import { nextRunAfter } from './cron-schedule.js';
import { StaleChange } from '../core/errors.js';
import type { Clock, CronPlacement, LockReader } from '../core/ports.js';
import type { Logger } from '../log.js';
import type { RequestStore } from '../store/request-store.js';
import { toFailure } from './failure.js';

export interface CronMoveDeps {
  readonly config: Config;
  readonly store: RequestStore;
  readonly cron: CronPlacement;
  readonly locks: LockReader;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long after the next scheduled run the witness looks (the run needs time to take the lock). */
  readonly witnessDelayMs: number;
}

export async function applyCronMove(requestId: number, deps: CronMoveDeps): Promise<ChangeRequest> {
  const { store, cron, clock } = deps;
  let r = await store.mustGet(requestId);
  if (r.status !== 'approved' && r.status !== 'applying') return r;
  const change = r.change;
  if (change.kind !== 'cron') throw new Error(`request #${requestId} is not a cron move`);
  const job = deps.config.cronjobs[change.job];
  if (!job) throw new StaleChange(`Cron job ${change.job} is no longer configured, so nothing was changed.`);
  r = await store.apply(requestId, { type: 'start', at: clock.now() });

  const wantSuspended = change.to === 'ec2';
  let state;
  try {
    const current = await cron.read(job.kubernetes);
    state = current.suspended === wantSuspended ? current : await cron.setSuspended(job.kubernetes, wantSuspended);
  } catch (err) {
    // A 409: someone changed the CronJob while we patched it; nothing of ours was applied.
    if (err instanceof StaleChange) return store.apply(requestId, { type: 'stale', at: clock.now(), failure: toFailure(err) });
    throw err;
  }

  // The lock says whether a run is going on right now, and who runs it.
  const holder = await deps.locks.holder(job.lockKey).catch((err: Error) => {
    deps.log.warn({ requestId, err: err.message }, 'could not read the lock');
    return undefined;
  });
  if (holder) {
    await store.apply(requestId, {
      type: 'note',
      note:
        change.to === 'ec2'
          ? `A run is in progress (lock \`${job.lockKey}\` held by ${holder}); it will finish, and EC2 takes over from the next run.`
          : `A run is in progress (lock \`${job.lockKey}\` held by ${holder}); Kubernetes takes over from the next run.`,
    });
  } else if (holder === undefined) {
    await store.apply(requestId, { type: 'note', note: `The lock \`${job.lockKey}\` could not be read, so whether a run is in progress is unknown.` });
  }

  const next = nextRunAfter(state.schedule, state.timeZone, new Date(clock.now()));
  if (next) {
    await store.apply(requestId, { type: 'witness', runAt: next.getTime(), at: next.getTime() + deps.witnessDelayMs });
    await store.apply(requestId, { type: 'note', note: `Next run due ${next.toISOString().replace('.000Z', 'Z')}; I will report in the thread what happened.` });
  }
  return store.apply(requestId, { type: 'applied', at: clock.now() });
}
