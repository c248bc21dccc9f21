/**
 * The last witness of each cron job (what its first scheduled run after a move showed), kept in
 * one Redis hash so the App Home tab can show it after the thread reply has scrolled away.
 */
import type { Redis } from 'ioredis';

export interface CronWitnessRecord {
  readonly job: string;
  readonly requestId: number;
  readonly movedTo: 'kubernetes' | 'ec2';
  /** When the witness looked. */
  readonly at: number;
  /** The Job Kubernetes started for that run, if any. */
  readonly run?: { readonly name: string; readonly createdAt: number; readonly outcome: string };
  /** Who held the memcache lock when the witness looked: null free, undefined unreadable. */
  readonly holder?: string | null;
}

const KEY = 'strangler:cron-witness';

export class CronWitnessStore {
  constructor(private readonly redis: Redis) {}

  async record(w: CronWitnessRecord): Promise<void> {
    await this.redis.hset(KEY, w.job, JSON.stringify(w));
  }

  async all(): Promise<Map<string, CronWitnessRecord>> {
    const raw = await this.redis.hgetall(KEY);
    return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as CronWitnessRecord]));
  }
}
