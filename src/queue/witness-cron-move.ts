/**
 * After a cron move, looks at what happened when the job was next due and says so in the
 * approval thread: users want proof the move worked, not just that a field changed.
 */
import type { Config } from '../config/schema.js';
import type { CronPlacement, LockReader, RequestDisplay } from '../core/ports.js';
import type { RequestStore } from '../store/request-store.js';
import type { CronWitnessStore } from '../store/cron-witness-store.js';

export interface WitnessDeps {
  readonly config: Config;
  readonly store: RequestStore;
  readonly cron: CronPlacement;
  readonly locks: LockReader;
  readonly display: RequestDisplay;
  /** Keeps the last witness of each job, for the App Home tab. */
  readonly witnesses?: CronWitnessStore;
}

export async function witnessCronMove(requestId: number, deps: WitnessDeps): Promise<void> {
  const r = await deps.store.get(requestId);
  if (!r || r.status !== 'applied' || r.change.kind !== 'cron') return;
  const job = deps.config.cronjobs[r.change.job];
  if (!job) return;
  // From the run it reports on, not from the move: a Job the controller created a moment before the
  // move (within the same second, as creationTimestamp counts) is not a run after it.
  const since = new Date(r.witnessRunAt ?? r.finishedAt ?? r.requestedAt);
  const [jobs, holder] = await Promise.all([
    deps.cron.jobsSince(job.kubernetes, since),
    deps.locks.holder(job.lockKey).catch(() => undefined),
  ]);
  await deps.display.showWitness(r, { jobs, holder, lockKey: job.lockKey });
  const run = jobs[0];
  await deps.witnesses
    ?.record({
      job: r.change.job,
      requestId: r.id,
      movedTo: r.change.to,
      at: Date.now(),
      ...(run ? { run: { name: run.name, createdAt: run.createdAt.getTime(), outcome: run.outcome } } : {}),
      ...(holder !== undefined ? { holder } : {}),
    })
    // Only the dashboard reads it: the witness itself has been shown.
    .catch(() => undefined);
}
