/**
 * Applies an approved weight change: compare-and-swap in Route 53, wait for INSYNC, read back.
 * Safe to run again at any point (a worker can die anywhere): the request records the change id
 * once submitted, and records that already carry the new weights are recognised as applied.
 */
import type { ChangeRequest } from '../core/change-request.js';
import { StaleChange, VerifyFailed } from '../core/errors.js';
import { swappedFrom, unchangedSince, weightsOf } from '../core/pair-snapshot.js';
import type { Clock, PairSnapshot, WeightedPair, WeightedPairTarget } from '../core/ports.js';
import { formatWeights, sameWeights } from '../core/split.js';
import type { Weights } from '../core/split.js';
import type { RequestStore } from '../store/request-store.js';
import type { ZoneLock } from '../store/zone-lock.js';
import { toFailure } from './failure.js';

export interface ApplyWeightDeps {
  readonly store: RequestStore;
  readonly pairs: WeightedPair;
  readonly zoneLock: ZoneLock;
  readonly clock: Clock;
  readonly targetOf: (service: string) => WeightedPairTarget;
  readonly syncTimeoutMs: number;
  /**
   * Called once the new split is verified, before the request is marked applied: the out-of-band
   * check's baseline (a check that saw the request still in flight must find the baseline set).
   */
  readonly onVerified?: (service: string, weights: Weights) => Promise<void>;
}

function staleMessage(recordName: string, id: number, current: PairSnapshot): string {
  return (
    `The records for ${recordName} changed since request #${id} was made (someone edited them in the console, or Terraform ran), ` +
    `so nothing was applied. Current split: ${formatWeights(weightsOf(current))}.`
  );
}

const LOST_CHANGE_ID =
  'An earlier attempt had already applied this batch; its Route 53 change id was lost, so propagation was not awaited (Route 53 usually finishes within 60 s).';

/** The failure code of a ramp's step that a Pause or Abort stopped before it reached Route 53. */
export const WITHDRAWN = 'WITHDRAWN';

class Withdrawn extends Error {}

export interface ApplyWeightOptions {
  /**
   * Asked inside the zone lock just before the swap (the wait for the lock can be long): false
   * ends the request failed (code WITHDRAWN) with nothing sent. A ramp's step asks whether the
   * ramp still wants it.
   */
  readonly stillWanted?: () => Promise<boolean>;
}

/** Returns the request in its final state, or throws a retryable error for the queue to retry. */
export async function applyWeightChange(requestId: number, deps: ApplyWeightDeps, opts: ApplyWeightOptions = {}): Promise<ChangeRequest> {
  const { store, pairs, clock } = deps;
  let r = await store.mustGet(requestId);
  if (r.status !== 'approved' && r.status !== 'applying') return r;
  const change = r.change;
  if (change.kind !== 'weight') throw new Error(`request #${requestId} is not a weight change`);
  const target = deps.targetOf(change.service);
  r = await store.apply(requestId, { type: 'start', at: clock.now() });

  try {
    await deps.zoneLock.with(target.hostedZoneId, `request-${requestId}`, async () => {
      if (r.changeId === undefined) {
        const current = await pairs.read(target);
        if (unchangedSince(current, change.snapshot)) {
          if (opts.stillWanted && !(await opts.stillWanted())) throw new Withdrawn();
          try {
            const { changeId } = await pairs.swap(target, change.snapshot, change.to);
            r = await store.apply(requestId, { type: 'submitted', changeId });
          } catch (err) {
            if (!(err instanceof StaleChange)) throw err;
            // Refused because the records no longer match. Either someone changed them between our
            // read and the batch (stale), or an earlier SDK attempt of this very batch landed and
            // the retry's DELETE found the new records (applied: the GetChange id is lost, so the
            // read-back below is the proof).
            const now = await pairs.read(target);
            if (!swappedFrom(now, change.snapshot, change.to)) throw new StaleChange(staleMessage(target.recordName, requestId, now));
            r = await store.apply(requestId, { type: 'note', note: LOST_CHANGE_ID });
          }
        } else if (swappedFrom(current, change.snapshot, change.to)) {
          // An earlier attempt's batch landed but its worker died before recording the change id.
          r = await store.apply(requestId, { type: 'note', note: LOST_CHANGE_ID });
        } else {
          throw new StaleChange(staleMessage(target.recordName, requestId, current));
        }
      }
      if (r.changeId !== undefined) await pairs.waitInSync(r.changeId, { timeoutMs: deps.syncTimeoutMs });
    });
  } catch (err) {
    if (err instanceof Withdrawn) {
      return store.apply(requestId, { type: 'failed', at: clock.now(), failure: { code: WITHDRAWN, message: 'Not applied: the ramp was paused or aborted before this step reached Route 53.' } });
    }
    if (err instanceof StaleChange) return store.apply(requestId, { type: 'stale', at: clock.now(), failure: toFailure(err) });
    throw err;
  }

  const after = await pairs.read(target);
  if (!sameWeights(weightsOf(after), change.to)) {
    throw new VerifyFailed(
      `Route 53 confirmed the change, but reading ${target.recordName} back shows ${formatWeights(weightsOf(after))} instead of ${formatWeights(change.to)}.`,
    );
  }
  await deps.onVerified?.(change.service, change.to);
  return store.apply(requestId, { type: 'applied', at: clock.now() });
}
