/**
 * Reads what the App Home tab shows: every service's split (one Route 53 listing per zone), its
 * open request with a link to the message, its last change, versions from the last drift check,
 * and each cron job's placement, last Kubernetes run and lock. Each row fails on its own: a read
 * that fails or takes too long makes that row "unknown" with the reason, never the whole view.
 */
import type { WebClient } from '@slack/web-api';
import pLimit from 'p-limit';
import type { Config } from '../config/schema.js';
import { serviceKey, type ChangeRequest } from '../core/change-request.js';
import type { DriftState } from '../core/drift.js';
import { StranglerError } from '../core/errors.js';
import { weightsOf } from '../core/pair-snapshot.js';
import type { Clock, CronPlacement, LockReader, PairSnapshot, WeightedPair } from '../core/ports.js';
import { splitFromWeights } from '../core/split.js';
import type { Logger } from '../log.js';
import type { CronWitnessRecord, CronWitnessStore } from '../store/cron-witness-store.js';
import type { DriftStore } from '../store/drift-store.js';
import type { RequestStore } from '../store/request-store.js';
import type { HomeCronJob, HomeService, HomeState, ShareReading } from './render-home.js';

export interface HomeGatherDeps {
  readonly config: Config;
  readonly pairs: WeightedPair;
  readonly store: RequestStore;
  readonly client: WebClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly driftStore?: DriftStore;
  readonly cron?: { readonly placement: CronPlacement; readonly locks: LockReader; readonly witnesses?: CronWitnessStore };
  /** How long any one outside read may take before its row shows as unknown. */
  readonly timeoutMs?: number;
  readonly concurrency?: number;
}

const LAST_RUN_WINDOW_MS = 7 * 86_400_000;

class TimedOut extends Error {}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`${what} did not answer within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The reason shown on an unknown row: our own errors say what happened; others are logged. */
function reason(err: unknown): string {
  if (err instanceof StranglerError || err instanceof TimedOut) return err.message;
  return 'could not be read (see the bot logs)';
}

export class HomeGather {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly links = new Map<string, string>();

  constructor(private readonly deps: HomeGatherDeps) {
    this.limit = pLimit(deps.concurrency ?? 8);
  }

  private get timeoutMs(): number {
    return this.deps.timeoutMs ?? 5000;
  }

  async gather(): Promise<HomeState> {
    const [services, cronJobs, history] = await Promise.all([this.services(), this.cronJobs(), this.deps.store.history(10).catch(() => [])]);
    return { services, cronJobs, history, now: this.deps.clock.now() };
  }

  private async services(): Promise<HomeService[]> {
    const { config, pairs, store, driftStore } = this.deps;
    const names = Object.keys(config.services);
    const targets = names.map((n) => config.services[n]!.route53);
    const read: Array<PairSnapshot | Error> = await within(pairs.readMany(targets), this.timeoutMs, 'Route 53').catch((err: unknown) =>
      names.map(() => (err instanceof Error ? err : new Error(String(err)))),
    );
    const untyped = read.filter((r): r is Error => r instanceof Error && !(r instanceof StranglerError) && !(r instanceof TimedOut));
    if (untyped.length) this.deps.log.warn({ err: untyped[0]!.message, rows: untyped.length }, 'home: some splits could not be read');
    const drift: Map<string, DriftState> = driftStore ? await driftStore.all().catch(() => new Map()) : new Map();
    return Promise.all(
      names.map(async (name, i) => {
        const [open, last] = await Promise.all([
          store.openFor(serviceKey(name)).catch(() => undefined),
          store.lastApplied(serviceKey(name)).catch(() => undefined),
        ]);
        const pair = read[i]!;
        let share: ShareReading;
        if (pair instanceof Error) share = { unknown: reason(pair) };
        else {
          const split = splitFromWeights(weightsOf(pair));
          share = { kubernetesPercent: split.kubernetesPercent, bothZero: split.bothZero };
        }
        const link = open ? await this.link(open) : undefined;
        return {
          name,
          recordName: config.services[name]!.route53.recordName,
          share,
          ...(open ? { open: { request: open, ...(link ? { link } : {}) } } : {}),
          ...(last ? { last } : {}),
          ...(config.services[name]!.version ? { versions: drift.get(name) ?? ('not-checked' as const) } : {}),
        };
      }),
    );
  }

  /** The approval message's permalink (they never change, so kept); none if Slack does not say. */
  private async link(r: ChangeRequest): Promise<string | undefined> {
    const m = r.message;
    if (!m) return undefined;
    const key = `${m.channel}/${m.ts}`;
    const hit = this.links.get(key);
    if (hit) return hit;
    try {
      const res = await this.limit(() => within(this.deps.client.chat.getPermalink({ channel: m.channel, message_ts: m.ts }), this.timeoutMs, 'Slack'));
      if (res.permalink) this.links.set(key, res.permalink);
      return res.permalink;
    } catch {
      return undefined;
    }
  }

  private async cronJobs(): Promise<HomeCronJob[]> {
    const { config, cron } = this.deps;
    if (!cron) return [];
    const since = new Date(this.deps.clock.now() - LAST_RUN_WINDOW_MS);
    const witnessed: Map<string, CronWitnessRecord> = cron.witnesses ? await cron.witnesses.all().catch(() => new Map()) : new Map();
    return Promise.all(
      Object.entries(config.cronjobs).map(async ([job, c]) => {
        const [state, runs, holder] = await Promise.all([
          this.limit(() => within(cron.placement.read(c.kubernetes), this.timeoutMs, 'Kubernetes')).catch((err: unknown) => ({ unknown: reason(err) })),
          this.limit(() => within(cron.placement.jobsSince(c.kubernetes, since), this.timeoutMs, 'Kubernetes')).catch((err: unknown) => ({ unknown: reason(err) })),
          this.limit(() => within(cron.locks.holder(c.lockKey), this.timeoutMs, 'memcache')).catch((err: unknown) => ({ unknown: reason(err) })),
        ]);
        const placement = 'unknown' in state ? state : state.suspended ? ('ec2' as const) : ('kubernetes' as const);
        const newest = Array.isArray(runs) ? runs[runs.length - 1] : undefined;
        const lastRun = Array.isArray(runs) ? (newest ? { name: newest.name, at: newest.createdAt.getTime(), outcome: newest.outcome } : undefined) : runs;
        const witness = witnessed.get(job);
        return { job, placement, holder, ...(lastRun ? { lastRun } : {}), ...(witness ? { witness } : {}) };
      }),
    );
  }
}
