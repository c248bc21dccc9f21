/**
 * Runs an approved ramp in the worker, from wherever it stands in Redis: a fresh start, or a
 * restart mid-step or mid-bake. Each step is a child weight change applied by the unchanged
 * compare-and-swap path (apply-weight-change.ts), from the records as the ramp last left them, so
 * a change made out of band makes the swap refuse and the ramp pause. The step's request number is
 * recorded on the ramp before the request exists, so a crash between the two is seen and the step
 * is neither skipped nor repeated; the bake's start is stored, so a resumed bake waits only the
 * time left. A bake is not waited out here: between two gate samples the driver throws RampWaits
 * and its job sleeps in the queue as a delayed job, holding no worker slot. Ends with the ramp
 * request applied (completed) or failed (rolled back, aborted); an error never ends it (it pauses,
 * or a return to the old split is tried again), so traffic is never left mid-ramp unwatched.
 * Slack is told after the fact and never waited for: undo must not wait for a message.
 */
import type { Change, ChangeRequest } from '../core/change-request.js';
import { transition } from '../core/change-request.js';
import { RequestClosed } from '../core/errors.js';
import type { MetricReader } from '../core/gate.js';
import type { GateProblem } from '../core/gate-verdict.js';
import { weightsOf } from '../core/pair-snapshot.js';
import {
  advance,
  addReadings,
  afterSwap,
  bakeLeftMs,
  isEnded,
  judge,
  lastSampledAt,
  pause,
  type RampRun,
  reserveChild,
  reserveRollback,
  rolledBack,
  startRollback,
  startRun,
  stepApplied,
} from '../core/ramp-run.js';
import { formatWeights, sameWeights, weightsForPercent } from '../core/split.js';
import { isRedisDown } from '../redis-connection.js';
import { type ApplyWeightDeps, applyWeightChange, WITHDRAWN } from './apply-weight-change.js';
import { RampWaits } from './ramp-waits.js';

type RampChange = Extract<Change, { kind: 'ramp' }>;

/** What the ramp has to tell people besides its message: said in the message's thread. */
export type RampNews =
  | { readonly kind: 'breach'; readonly problem: GateProblem }
  | { readonly kind: 'paused'; readonly because: string }
  /** A return to the old split failed for now; it is tried again (said once per distinct reason). */
  | { readonly kind: 'rollback-retrying'; readonly because: string }
  | { readonly kind: 'ended' };

export interface RampDisplay {
  showRequest(r: ChangeRequest): Promise<void>;
  rampNews(r: ChangeRequest, news: RampNews): Promise<void>;
}

export interface RampDeps extends ApplyWeightDeps {
  readonly reader: MetricReader;
  readonly display: RampDisplay;
  /** How often gates are read during a bake. */
  readonly sampleMs: number;
  /** True once the process is shutting down: the driver lets go between steps. */
  readonly stopping?: () => boolean;
  /** The service's largest allowed move per step (config maxStep): a step re-planned from records changed out of band must respect it. */
  readonly maxStepOf?: (service: string) => number;
}

const ROLLBACK_ATTEMPTS = 3;

class RampDriver {
  constructor(
    private readonly id: number,
    private readonly c: RampChange,
    private readonly d: RampDeps,
  ) {}

  private now(): number {
    return this.d.clock.now();
  }

  /** Says it in Slack without waiting: the notifier keeps the order, and logs its own failures. */
  private tell(r: ChangeRequest, news: RampNews): void {
    void this.d.display.rampNews(r, news).catch(() => undefined);
  }

  /** Pauses (unless a click got there first), and says why in the thread when it was this pause. */
  private async pauseBecause(because: string, fn: (run: RampRun) => RampRun = (x) => pause(x, because)): Promise<ChangeRequest> {
    const r = await this.updateRun(fn);
    if (r.ramp?.phase === 'paused' && r.ramp.because === because) this.tell(r, { kind: 'paused', because });
    return r;
  }

  /** Changes the run inside the store's transaction; refuses (RequestClosed) once the ramp request is closed. */
  private updateRun(fn: (run: RampRun) => RampRun): Promise<ChangeRequest> {
    return this.d.store.update(this.id, (r) => {
      if (r.status !== 'applying' || r.ramp === undefined) throw new RequestClosed(r.id, r.status);
      return { ...r, ramp: fn(r.ramp) };
    });
  }

  async run(): Promise<ChangeRequest> {
    const { store, display } = this.d;
    let r = await store.update(this.id, (x) => {
      const started = transition(x, { type: 'start', at: this.now() });
      return started.ramp ? started : { ...started, ramp: startRun(this.c.snapshot) };
    });
    // A paused ramp's message already says so; a bake's is updated with each sample.
    if (r.ramp?.phase !== 'paused' && r.ramp?.phase !== 'baking') void display.showRequest(r);
    for (;;) {
      const run = r.ramp!;
      // Shutting down: let go between steps (a return to the old split is finished first).
      if (this.d.stopping?.() && run.phase !== 'rolling-back' && !isEnded(run)) return r;
      try {
        switch (run.phase) {
          case 'applying':
            r = await this.applyStep(r, run);
            break;
          case 'baking':
            r = await this.bake();
            break;
          case 'rolling-back':
            r = await this.rollBack(run);
            break;
          case 'paused': {
            // A Resume or Abort clicked while this run was pausing found this job still running:
            // it is this run's to carry out (the click's own job may not have been added).
            const now = await store.mustGet(this.id);
            if (now.status !== 'applying' || now.ramp === undefined || now.ramp.phase === 'paused') return now;
            r = now;
            break;
          }
          default:
            return this.end(r, run);
        }
      } catch (err) {
        // A rollback that fails is retried by the queue with backoff, then by the sweep: it must
        // not wait for a person, and the ramp stays open (it never ends failed mid-ramp).
        if (err instanceof RampWaits || err instanceof RequestClosed || isRedisDown(err)) throw err;
        if (run.phase === 'rolling-back') {
          await this.rollbackTrouble((err as Error).message);
          throw err;
        }
        // Route 53 unreachable past its retries, a read-back that disagrees: a person decides.
        r = await this.pauseBecause(`the step could not be applied: ${(err as Error).message}`);
      }
    }
  }

  private async end(r: ChangeRequest, run: RampRun): Promise<ChangeRequest> {
    if (!isEnded(run)) return r;
    const at = this.now();
    const ended =
      run.phase === 'done'
        ? await this.d.store.apply(this.id, { type: 'applied', at })
        : await this.d.store.apply(this.id, {
            type: 'failed',
            at,
            failure: {
              code: run.phase === 'aborted' ? 'RAMP_ABORTED' : 'RAMP_ROLLED_BACK',
              message: `${run.phase === 'aborted' ? 'Aborted' : 'Rolled back'}: ${run.because ?? ''} ${this.c.service} is back at ${formatWeights(this.c.from)}.`,
            },
          });
    await this.withdrawChild(run.childId);
    this.tell(ended, { kind: 'ended' });
    return ended;
  }

  /** Says in the thread, once per distinct reason, that the return to the old split is being retried. */
  private async rollbackTrouble(because: string): Promise<void> {
    let fresh = false;
    const r = await this.updateRun((x) => {
      fresh = x.phase === 'rolling-back' && x.rollbackTrouble !== because;
      return fresh ? { ...x, rollbackTrouble: because } : x;
    }).catch(() => undefined);
    if (r && fresh) this.tell(r, { kind: 'rollback-retrying', because });
  }

  /** A step's request the ramp will never apply (it ended first) is closed as failed, not left open forever. */
  private async withdrawChild(childId: number | undefined): Promise<void> {
    if (childId === undefined) return;
    const child = await this.d.store.get(childId);
    if (child?.status !== 'approved' && child?.status !== 'applying') return;
    if (child.changeId !== undefined) return; // sent to Route 53: its own job sees it through
    await this.d.store
      .apply(childId, { type: 'failed', at: this.now(), failure: { code: WITHDRAWN, message: `Not applied: ramp #${this.id} ended first.` } })
      .catch(() => undefined);
  }

  private async applyStep(r: ChangeRequest, run: RampRun): Promise<ChangeRequest> {
    const { store, display } = this.d;
    const percent = this.c.plan.steps[run.step]!;
    if (run.childId === undefined) {
      const reserved = await store.reserveId();
      r = await this.updateRun((x) => (x.phase === 'applying' ? reserveChild(x, reserved) : x));
      return r;
    }
    const childId = run.childId;
    const to = weightsForPercent(percent);
    if ((await store.get(childId)) === undefined) {
      // A Pause or Abort clicked since the step's id was reserved: the step is not started.
      const fresh = await store.mustGet(this.id);
      if (fresh.status !== 'applying' || fresh.ramp?.phase !== 'applying') return fresh;
      const snapshot = run.rereadSnapshot ? await this.d.pairs.read(this.d.targetOf(this.c.service)) : run.snapshot;
      if (run.rereadSnapshot) {
        const tooBig = this.tooBigFrom(weightsOf(snapshot).kubernetes, percent);
        if (tooBig) return this.pauseBecause(tooBig, (x) => pause(x, tooBig, { rereadSnapshot: true }));
      }
      const now = this.now();
      const n = this.c.plan.steps.length;
      await store.createChild(childId, {
        change: { kind: 'weight', service: this.c.service, from: weightsOf(snapshot), to, snapshot },
        reason: `step ${run.step + 1} of ${n} of ramp #${this.id}`,
        requestedBy: r.requestedBy,
        requestedAt: now,
        expiresAt: now,
        origin: r.origin,
        status: 'approved',
        ...(r.decidedBy !== undefined ? { decidedBy: r.decidedBy } : {}),
        decidedAt: now,
        rampOf: this.id,
      });
    }
    // Asked again inside the zone lock, just before the swap: the wait for the lock can be long.
    const stillWanted = async () => {
      const now = await store.get(this.id);
      return now?.status === 'applying' && now.ramp?.phase === 'applying' && now.ramp.childId === childId;
    };
    const done = await applyWeightChange(childId, this.d, { stillWanted });
    const swapped = done.change;
    if (done.status === 'applied' && swapped.kind === 'weight') {
      // The compare of the next step: the records this step's swap wrote.
      r = await this.updateRun((x) => stepApplied(x, this.c.plan, childId, afterSwap(swapped.snapshot, to), this.now()));
      void display.showRequest(r);
      return r;
    }
    if (done.failure?.code === WITHDRAWN) {
      // Stopped by a click before it reached Route 53: a Resume reserves the step afresh.
      return this.updateRun((x) => {
        if (x.childId !== childId) return x;
        const { childId: _, ...rest } = x;
        return rest;
      });
    }
    // Stale: the records are not as the ramp left them. Pause and say so; a Resume starts the step
    // again from the records as they are then (a person has looked at them by then).
    const because = `the records of ${this.c.service} changed outside the ramp (in the console, or Terraform ran), so step ${run.step + 1} (${percent}%) was not applied. ${done.failure?.message ?? ''}`.trim();
    return this.pauseBecause(because, (x) => {
      if (x.childId !== childId) return x;
      const { childId: _, ...rest } = x;
      // Paused by a click meanwhile, or rolling back: no pause of ours, but a Resume must still read the records again.
      return pause({ ...rest, rereadSnapshot: true }, because, { rereadSnapshot: true });
    });
  }

  /** Why a step from `fromPercent` (the records as they are now) to `percent` is more than maxStep allows; undefined if it is not. */
  private tooBigFrom(fromPercent: number, percent: number): string | undefined {
    const maxStep = this.d.maxStepOf?.(this.c.service);
    if (maxStep === undefined || Math.abs(percent - fromPercent) <= maxStep) return undefined;
    return `the records of ${this.c.service} now send ${fromPercent}% to Kubernetes (changed outside the ramp), and the ramp's next step, ${percent}%, is more than its maxStep of ${maxStep} points away, so it was not applied. Set the records back within ${maxStep} points of ${percent}% and Resume, or Abort`;
  }

  private async sample(since: number | undefined): Promise<ChangeRequest> {
    // Data from before the step began describes the old split (CloudWatch drops it).
    const readings = await Promise.all(this.c.plan.gates.map((g) => this.d.reader.read(g, { since })));
    const at = this.now();
    return this.updateRun((x) => addReadings(x, readings, at));
  }

  /**
   * One look at the bake: reads the gates when a sample is due and acts on the verdict; with time
   * left, throws RampWaits until the next sample or the bake's end (the job sleeps in the queue,
   * and a Pause or Abort click wakes it).
   */
  private async bake(): Promise<ChangeRequest> {
    const { store, display, sampleMs } = this.d;
    const gates = this.c.plan.gates;
    let r = await store.mustGet(this.id);
    if (r.status !== 'applying' || r.ramp?.phase !== 'baking') return r;
    const bakeEnd = r.ramp.bakeStartedAt! + this.c.plan.bakeMs;
    let sampledAt = lastSampledAt(r.ramp);
    if (gates.length > 0 && (this.now() - sampledAt >= sampleMs || (this.now() >= bakeEnd && sampledAt < bakeEnd))) {
      r = await this.sample(r.ramp.bakeStartedAt);
      if (r.ramp?.phase !== 'baking') return r;
      sampledAt = lastSampledAt(r.ramp);
      void display.showRequest(r);
    }
    const run = r.ramp!;
    const left = bakeLeftMs(run, this.c.plan, this.now());
    const verdict = judge(run, gates, left === 0);
    if (verdict.kind === 'breach') return this.breach(verdict.problems[0]!);
    if (left === 0) {
      if (verdict.kind === 'healthy') return this.bakeOver(run);
      if (verdict.kind === 'inconclusive') {
        // Violating but not yet a breach: more samples settle it either way. No data: a person decides.
        const settling = verdict.problems.every((p) => p.readings.at(-1)?.kind === 'value');
        if (!settling) return this.pauseBecause(`the gates are inconclusive, and no data is never taken as healthy: ${verdict.problems.map((p) => p.reason).join('; ')}`);
      }
    }
    const nextSample = gates.length > 0 ? sampledAt + sampleMs : Number.POSITIVE_INFINITY;
    const wakeAt = Math.min(nextSample, left > 0 ? bakeEnd : Number.POSITIVE_INFINITY);
    throw new RampWaits(Math.max(10, wakeAt - this.now()));
  }

  /** A healthy bake: the next step, or the end. The last step has no next swap to notice a change made out of band, so the records are read first. */
  private async bakeOver(run: RampRun): Promise<ChangeRequest> {
    if (run.step + 1 >= this.c.plan.steps.length) {
      const live = weightsOf(await this.d.pairs.read(this.d.targetOf(this.c.service)));
      const applied = weightsOf(run.snapshot);
      if (!sameWeights(live, applied)) {
        return this.pauseBecause(
          `the records of ${this.c.service} changed outside the ramp during the last bake: they send ${formatWeights(live)}, not the ${formatWeights(applied)} the ramp applied, so it is not marked complete. Set them back and Resume (the last step bakes again), or Abort`,
        );
      }
    }
    const r = await this.updateRun((x) => (x.phase === 'baking' ? advance(x, this.c.plan) : x));
    void this.d.display.showRequest(r);
    return r;
  }

  /** On a breach the rollback starts at once (the caller's next turn); Slack is told meanwhile, never waited for. */
  private async breach(problem: GateProblem): Promise<ChangeRequest> {
    const rollback = this.c.plan.onFailure === 'rollback';
    const because = `gate “${problem.gate}” breached`;
    const r = await this.updateRun((x) => (x.phase !== 'baking' ? x : rollback ? startRollback(x, { gate: problem.gate }, because) : pause(x, `${because}: ${problem.reason}`)));
    this.tell(r, { kind: 'breach', problem });
    return r;
  }

  /** Back to the split before the ramp, at once and with no approval: from the records as they are now. */
  private async rollBack(run: RampRun): Promise<ChangeRequest> {
    const { store, display } = this.d;
    for (let attempt = 0; ; attempt++) {
      let current = (await store.mustGet(this.id)).ramp ?? run;
      if (current.rollbackChildId === undefined) {
        const reserved = await store.reserveId();
        current = (await this.updateRun((x) => reserveRollback(x, reserved))).ramp!;
      }
      const childId = current.rollbackChildId!;
      if ((await store.get(childId)) === undefined) {
        const snapshot = await this.d.pairs.read(this.d.targetOf(this.c.service));
        if (sameWeights(weightsOf(snapshot), this.c.from)) {
          // Already there (the step was never applied, or put back by hand): still the split the
          // out-of-band check must now expect, not the step it last saw applied.
          await this.d.onVerified?.(this.c.service, this.c.from);
          break;
        }
        const ramp = await store.mustGet(this.id);
        const now = this.now();
        await store.createChild(childId, {
          change: { kind: 'weight', service: this.c.service, from: weightsOf(snapshot), to: this.c.from, snapshot },
          reason: `ramp #${this.id} ${current.stoppedBy?.user ? 'aborted' : 'rolled back'}: back to the split before it`,
          requestedBy: current.stoppedBy?.user ?? ramp.requestedBy,
          requestedAt: now,
          expiresAt: now,
          origin: ramp.origin,
          status: 'approved',
          decidedAt: now,
          rampOf: this.id,
          rollbackOf: this.id,
        });
      }
      const done = await applyWeightChange(childId, this.d);
      if (done.status === 'applied') break;
      // Changed again between our read and the swap: read again and retry, a few times.
      if (attempt + 1 >= ROLLBACK_ATTEMPTS) throw new Error(`the records kept changing while returning to ${formatWeights(this.c.from)}; check \`/strangle status\``);
      await this.updateRun((x) => {
        const { rollbackChildId: _, ...rest } = x;
        return rest;
      });
    }
    const r = await this.updateRun(rolledBack);
    void display.showRequest(r);
    return r;
  }
}

/** Runs (or resumes) ramp `id` until it ends or pauses; returns the request as it is then. */
export async function runRamp(id: number, deps: RampDeps): Promise<ChangeRequest> {
  const r = await deps.store.mustGet(id);
  if (r.status !== 'approved' && r.status !== 'applying') return r;
  if (r.change.kind !== 'ramp') throw new Error(`request #${id} is not a ramp`);
  return new RampDriver(id, r.change, deps).run();
}
