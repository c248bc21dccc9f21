/**
 * The periodic out-of-band check: reads every service's live split (one listing per hosted zone),
 * compares it with the baseline Redis keeps, and posts, updates or resolves one alert per episode.
 * It only ever reads Route 53; undoing an outside change is a normal request (the Restore button).
 * Also reads who else claims the managed records (external-dns TXT records) for `status`.
 */
import { randomBytes } from 'node:crypto';
import { type ChangeRequest, serviceKey } from '../core/change-request.js';
import type { AlertRef } from '../core/drift.js';
import { Unreachable } from '../core/errors.js';
import {
  type Baseline,
  evaluateOutside,
  type OutsideAnnouncer,
  OutsideAlertOutdated,
  type OutsideEpisode,
  type OutsideState,
  withOutsideAlert,
} from '../core/outside-change.js';
import { weightsOf } from '../core/pair-snapshot.js';
import type { Clock, PairSnapshot, WeightedPair, WeightedPairTarget } from '../core/ports.js';
import { describeClaim, type RecordClaimsReader } from '../core/record-claims.js';
import type { Weights } from '../core/split.js';
import type { Logger } from '../log.js';
import type { OutsideStore, StoredClaims } from '../store/outside-store.js';
import type { RequestStore } from '../store/request-store.js';

export interface WatchedService {
  readonly service: string;
  readonly pair: WeightedPairTarget;
}

export interface OutsideCheckDeps {
  readonly services: readonly WatchedService[];
  readonly pairs: WeightedPair;
  readonly claims?: RecordClaimsReader;
  readonly store: OutsideStore;
  readonly requests: RequestStore;
  readonly announcer: OutsideAnnouncer;
  /** Where alerts go; without one, episodes are still tracked and shown in `status`. */
  readonly alertChannel: string | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly newKey?: () => string;
}

/**
 * Whether the service's open request may be moving its records right now, so a split other than
 * the baseline is its own doing, not an outside change. A paused ramp moves nothing (it waits for
 * a person, possibly for days), so its service is judged like any other; unless a step it reserved
 * before the pause may still be landing (its childId is set until the step is recorded).
 */
export function movingRecords(open: ChangeRequest | undefined): boolean {
  if (open === undefined || (open.status !== 'approved' && open.status !== 'applying')) return false;
  return !(open.ramp?.phase === 'paused' && open.ramp.childId === undefined);
}

/** A check or an Accept holds the lock at most this long (a crashed holder frees it by then). */
const LOCK_TTL_MS = 120_000;

export class OutsideChecker {
  private readonly newKey: () => string;

  constructor(private readonly deps: OutsideCheckDeps) {
    this.newKey = deps.newKey ?? (() => randomBytes(9).toString('base64url'));
  }

  /** One scheduled check. Returns false when another process is already running one. */
  async tick(): Promise<boolean> {
    const ran = await this.deps.store.withLock(LOCK_TTL_MS, () => this.check());
    return ran !== undefined;
  }

  private async check(): Promise<true> {
    const { services, pairs, store, requests, clock } = this.deps;
    // In this order: live, then open requests, then baselines. An apply records its baseline
    // before it marks its request applied, so a split the bot itself just wrote is either still
    // covered by its in-flight request or already the baseline: never taken for an outside change.
    const live = await pairs.readMany(services.map((s) => s.pair)).catch((err: Error) => services.map(() => err));
    const opens = await Promise.all(services.map((s) => requests.openFor(serviceKey(s.service))));
    const baselines = await store.baselines();
    const prev = await store.states();
    const now = clock.now();
    const states: OutsideState[] = [];
    for (const [i, { service }] of services.entries()) {
      const pair = live[i]!;
      const open = opens[i];
      const before = prev.get(service);
      if (pair instanceof Error) {
        this.deps.log.debug({ service, err: pair.message }, 'outside check: split unreadable; skipped this time');
        continue;
      }
      if (movingRecords(open)) continue;
      let baseline = baselines.get(service);
      if (!baseline) {
        await store.seedBaseline(service, { weights: weightsOf(pair), source: 'first-seen', at: now });
        // An apply may have set one in between: judged next time, against whichever won.
        continue;
      }
      states.push(await this.judge(before, service, weightsOf(pair), baseline, now));
    }
    await store.saveStates(states);
    await store.retain(services.map((s) => s.service));
    await this.refreshClaims();
    return true;
  }

  private async judge(before: OutsideState | undefined, service: string, live: Weights, baseline: Baseline, now: number): Promise<OutsideState> {
    const { store, announcer, log } = this.deps;
    const { next, actions } = evaluateOutside(before, service, live, baseline, now, this.newKey);
    let state = next;
    for (const a of actions) {
      if (a.type === 'alert') {
        const channel = this.deps.alertChannel;
        const posted = channel && state.episode ? await announcer.alert(channel, service, state.episode, now) : undefined;
        if (posted) state = withOutsideAlert(state, posted);
        // Once per episode in the log too: a retry of an alert Slack refused (or no channel to post
        // to) is not news.
        const fields = { service, event: 'outside-change', from: state.episode?.from, live, alerted: posted !== undefined };
        if (!before?.episode) log.warn(fields, 'weights changed outside strangler');
        else log.debug(fields, 'outside-change alert tried again');
      } else if (a.type === 'update') {
        if (state.episode) await announcer.update(a.alert, service, state.episode, now);
        log.warn({ service, event: 'outside-change', live }, 'weights changed outside strangler again');
      } else {
        if (a.episode.alert) await announcer.resolve(a.episode.alert, service, a.episode, { type: 'returned', baseline: a.baseline }, now);
        log.info({ service, event: 'outside-change-resolved', live }, 'weights back at the baseline');
      }
      // Saved after each post: a crash or a later tick must not post it again.
      await store.saveStates([state]);
    }
    return state;
  }

  /**
   * Reads external-dns claims into Redis for `status`. Logged: the ones newly seen, or all of them
   * with `logAll` (at start-up, so each start says so).
   */
  async refreshClaims(logAll = false): Promise<ReadonlyMap<string, StoredClaims>> {
    const { claims, services, store, clock, log } = this.deps;
    if (!claims) return new Map();
    const [results, before] = await Promise.all([claims.claims(services.map((s) => s.pair)), store.claims()]);
    const now = clock.now();
    const fresh = new Map<string, StoredClaims>();
    services.forEach(({ service, pair }, i) => {
      const r = results[i]!;
      if (r instanceof Error) {
        log.debug({ service, err: r.message }, 'could not read record claims');
        return;
      }
      fresh.set(service, { claims: r, checkedAt: now });
      const known = new Set(logAll ? [] : (before.get(service)?.claims ?? []).map((c) => c.txtName));
      for (const c of r.filter((c) => !known.has(c.txtName))) {
        log.warn(
          { service, recordName: pair.recordName, claim: c, event: 'record-claimed' },
          `${pair.recordName} is also claimed by ${describeClaim(c)}: external-dns would put its own weights back; exclude the name from external-dns and delete its TXT record (see the README)`,
        );
      }
    });
    await store.saveClaims(fresh);
    return fresh;
  }

  /**
   * Accept: the live split becomes the baseline and the episode ends. The caller has checked that
   * the clicker is an approver. `key` is the episode the alert's button was posted for.
   */
  async accept(service: string, key: string, by: string): Promise<{ live: Weights; alert: AlertRef | undefined }> {
    const { store, pairs, announcer, clock } = this.deps;
    const target = this.target(service);
    const done = await store.withLock(
      LOCK_TTL_MS,
      async () => {
        const episode = (await store.states()).get(service)?.episode;
        if (!episode || episode.key !== key) throw new OutsideAlertOutdated(service);
        const snapshot: PairSnapshot = await pairs.read(target);
        const live = weightsOf(snapshot);
        const now = clock.now();
        await store.setBaseline(service, { weights: live, source: 'accepted', at: now, by });
        await store.saveStates([{ service, checkedAt: now }]);
        if (episode.alert) await announcer.resolve(episode.alert, service, episode, { type: 'accepted', by, live }, now);
        this.deps.log.info({ service, event: 'outside-change-accepted', by, live }, 'outside change accepted as the new baseline');
        return { live, alert: episode.alert };
      },
      10_000,
    );
    if (!done) throw new Unreachable('A check of the weights is running right now, so the Accept was not recorded.');
    return done;
  }

  /** The episode an alert's button belongs to, refusing buttons of episodes that are over. */
  async episodeFor(service: string, key: string): Promise<OutsideEpisode> {
    const episode = (await this.deps.store.states()).get(service)?.episode;
    if (!episode || episode.key !== key) throw new OutsideAlertOutdated(service);
    return episode;
  }

  private target(service: string): WeightedPairTarget {
    const s = this.deps.services.find((x) => x.service === service);
    if (!s) throw new OutsideAlertOutdated(service);
    return s.pair;
  }
}
