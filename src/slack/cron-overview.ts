/** Gathers what `/strangle cron` and `/strangle status` show about each periodic job. */
import type { Config } from '../config/schema.js';
import { cronKey } from '../core/change-request.js';
import type { CronPlacement, LockReader } from '../core/ports.js';
import type { RequestStore } from '../store/request-store.js';
import type { CronJobStatus } from './render-cron.js';

export class CronOverview {
  constructor(
    private readonly config: Config,
    private readonly cron: CronPlacement,
    private readonly locks: LockReader,
    private readonly store: RequestStore,
  ) {}

  async placement(job: string): Promise<'kubernetes' | 'ec2'> {
    const ref = this.config.cronjobs[job]!.kubernetes;
    return (await this.cron.read(ref)).suspended ? 'ec2' : 'kubernetes';
  }

  async statuses(only?: string): Promise<CronJobStatus[]> {
    const names = Object.keys(this.config.cronjobs).filter((n) => only === undefined || n === only);
    return Promise.all(
      names.map(async (job) => {
        const c = this.config.cronjobs[job]!;
        const [state, holder, open] = await Promise.all([
          this.cron.read(c.kubernetes).catch((err: Error) => err),
          this.locks.holder(c.lockKey).catch(() => undefined),
          this.store.openFor(cronKey(job)),
        ]);
        return { job, namespace: c.kubernetes.namespace, name: c.kubernetes.name, lockKey: c.lockKey, state, holder, open };
      }),
    );
  }
}
