/**
 * The periodic drift check: reads every service's two versions (concurrently, bounded; each
 * source has its own timeout so a slow one holds up nobody), compares them with what Redis
 * remembers, and posts, reminds or resolves alerts in the alert channel.
 */
import pLimit from 'p-limit';
import type { DriftSettings, DriftState, Reading } from '../core/drift.js';
import { evaluateDrift, withAlert } from '../core/drift.js';
import { StranglerError } from '../core/errors.js';
import { weightsOf } from '../core/pair-snapshot.js';
import type { Clock, DriftAnnouncer, VersionSource, WeightedPair, WeightedPairTarget } from '../core/ports.js';
import { formatWeights } from '../core/split.js';
import type { Logger } from '../log.js';
import type { DriftStore } from '../store/drift-store.js';

export interface ServiceVersionSources {
  readonly service: string;
  readonly kubernetes: VersionSource;
  readonly ec2: VersionSource;
  readonly pair: WeightedPairTarget;
}

export interface DriftCheckDeps {
  readonly services: readonly ServiceVersionSources[];
  readonly store: DriftStore;
  readonly pairs: WeightedPair;
  /** Posts, reminds and resolves alerts where people see them (Slack's alert channel). */
  readonly announcer: DriftAnnouncer;
  readonly alertChannel: string | undefined;
  readonly settings: DriftSettings;
  readonly clock: Clock;
  readonly log: Logger;
  /** Reads in flight at once across all services (default 32). */
  readonly concurrency?: number;
  /** Called after each completed tick, for metrics. */
  readonly onChecked?: (states: readonly DriftState[]) => void;
}

async function read(source: VersionSource): Promise<Reading> {
  try {
    return await source.read();
  } catch (err) {
    // Messages of our typed errors are written for people; anything else is summarised.
    return { error: err instanceof StranglerError ? err.message : `${source.description}: ${(err as Error)?.message ?? 'unreadable'}` };
  }
}

export class DriftChecker {
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(private readonly deps: DriftCheckDeps) {
    this.limit = pLimit(deps.concurrency ?? 32);
  }

  /** Both versions of every service, read now. */
  async readAll(): Promise<Array<{ service: string; kubernetes: Reading; ec2: Reading }>> {
    return Promise.all(
      this.deps.services.map(async (s) => {
        const [kubernetes, ec2] = await Promise.all([this.limit(() => read(s.kubernetes)), this.limit(() => read(s.ec2))]);
        return { service: s.service, kubernetes, ec2 };
      }),
    );
  }

  /** For `/strangle drift`: a fresh read, judged against the episodes Redis knows; changes no alert. */
  async current(): Promise<{ states: DriftState[]; now: number }> {
    const now = this.deps.clock.now();
    const [readings, prev] = await Promise.all([this.readAll(), this.deps.store.all()]);
    const states = readings.map((r) => evaluateDrift(prev.get(r.service), r.service, r.kubernetes, r.ec2, now, this.deps.settings).next);
    return { states, now };
  }

  /** One scheduled check. Returns false when another process is already running one. */
  async tick(): Promise<boolean> {
    const ran = await this.deps.store.withCheckLock(120_000, () => this.check());
    return ran !== undefined;
  }

  private async check(): Promise<true> {
    const { store, clock, settings } = this.deps;
    const [prev, readings] = await Promise.all([store.all(), this.readAll()]);
    const now = clock.now();
    const results = readings.map((r) => ({ r, ...evaluateDrift(prev.get(r.service), r.service, r.kubernetes, r.ec2, now, settings) }));
    const alerting = results.filter((x) => x.actions.some((a) => a.type === 'alert' && a.kind === 'drift')).map((x) => x.r.service);
    const splits = await this.splits(alerting);

    const states: DriftState[] = [];
    for (const { next, actions } of results) {
      let state = next;
      for (const a of actions) {
        if (a.type === 'alert') state = await this.alert(state, splits.get(state.service), now);
        else if (a.type === 'remind') {
          const thread = state.episode?.alert;
          if (thread) await this.deps.announcer.remind(thread, state, now);
        } else {
          await this.deps.announcer.resolve(a, state, now);
        }
        // Saved after each post: a crash or an overlapping tick later must not post it again.
        await store.save([state]);
      }
      states.push(state);
    }
    await store.save(states);
    await store.retain(this.deps.services.map((s) => s.service));
    this.deps.onChecked?.(states);
    return true;
  }

  private async splits(services: readonly string[]): Promise<Map<string, string>> {
    const targets = this.deps.services.filter((s) => services.includes(s.service));
    if (targets.length === 0) return new Map();
    const results = await this.deps.pairs.readMany(targets.map((t) => t.pair)).catch(() => targets.map(() => new Error('unreadable')));
    return new Map(targets.flatMap((t, i) => (results[i] instanceof Error ? [] : [[t.service, formatWeights(weightsOf(results[i]!))]])));
  }

  private async alert(state: DriftState, split: string | undefined, now: number): Promise<DriftState> {
    const channel = this.deps.alertChannel;
    if (!channel) return state;
    const posted = await this.deps.announcer.alert(channel, state, split, now);
    // Not posted: not recorded as alerted, so the next tick tries again.
    if (!posted) return state;
    this.deps.log.info({ service: state.service, kind: state.episode?.kind, event: 'drift-alert' }, 'drift alert posted');
    return withAlert(state, posted, now);
  }
}
