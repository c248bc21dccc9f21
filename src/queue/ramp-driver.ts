/**
 * Runs an approved ramp in the worker, from wherever it stands in Redis: a fresh start, or a
 * restart mid-step or mid-bake. Each step is a child weight change applied by the unchanged
 * compare-and-swap path (apply-weight-change.ts), from the records as the ramp last left them, so
 * a change made out of band makes the swap refuse and the ramp pause. The step's request number is
 * recorded on the ramp before the request exists, so a crash between the two is seen and the step
 * is neither skipped nor repeated; the bake's start is stored, so a resumed bake waits only the
 * time left. Ends with the ramp request applied (completed) or failed (rolled back, aborted).
 */
import { setTimeout as sleep } from 'node:timers/promises';
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
import { type ApplyWeightDeps, applyWeightChange } from './apply-weight-change.js';

type RampChange = Extract<Change, { kind: 'ramp' }>;

/** What the ramp has to tell people besides its message: said in the message's thread. */
export type RampNews =
  | { readonly kind: 'breach'; readonly problem: GateProblem }
  | { readonly kind: 'paused'; readonly because: string }
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
  /** How often a waiting driver looks for a Pause or Abort clicked meanwhile. */
  readonly tickMs?: number;
  /** True once the process is shutting down: a bake is left for the next worker to resume. */
  readonly stopping?: () => boolean;
}

const ROLLBACK_ATTEMPTS = 3;

class RampDriver {
  private lastSampleAt = 0;

  constructor(
    private readonly id: number,
    private readonly c: RampChange,
    private readonly d: RampDeps,
  ) {}

  private now(): number {
    return this.d.clock.now();
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
    // A paused ramp is looked at by every sweep: its message already says so.
    if (r.ramp?.phase !== 'paused') void display.showRequest(r);
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
          case 'paused':
            return r;
          default:
            return this.end(r, run);
        }
      } catch (err) {
        // A rollback that fails is retried by the queue with backoff: it must not wait for a person.
        if (err instanceof RequestClosed || isRedisDown(err) || run.phase === 'rolling-back') throw err;
        // Route 53 unreachable past its retries, a read-back that disagrees: a person decides.
        const because = `the step could not be applied: ${(err as Error).message}`;
        r = await this.updateRun((x) => pause(x, because));
        await display.rampNews(r, { kind: 'paused', because });
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
    await this.d.display.rampNews(ended, { kind: 'ended' });
    return ended;
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
      const snapshot = run.rereadSnapshot ? await this.d.pairs.read(this.d.targetOf(this.c.service)) : run.snapshot;
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
    const done = await applyWeightChange(childId, this.d);
    const swapped = done.change;
    if (done.status === 'applied' && swapped.kind === 'weight') {
      // The compare of the next step: the records this step's swap wrote.
      r = await this.updateRun((x) => stepApplied(x, this.c.plan, childId, afterSwap(swapped.snapshot, to), this.now()));
      void display.showRequest(r);
      return r;
    }
    // Stale: the records are not as the ramp left them. Pause and say so; a Resume starts the step
    // again from the records as they are then (a person has looked at them by then).
    const because = `the records of ${this.c.service} changed outside the ramp (in the console, or Terraform ran), so step ${run.step + 1} (${percent}%) was not applied. ${done.failure?.message ?? ''}`.trim();
    r = await this.updateRun((x) => {
      const { childId: _, ...rest } = x;
      return x.childId === childId ? pause(rest, because, { rereadSnapshot: true }) : x;
    });
    await display.rampNews(r, { kind: 'paused', because });
    return r;
  }

  private async sample(): Promise<ChangeRequest> {
    const readings = await Promise.all(this.c.plan.gates.map((g) => this.d.reader.read(g)));
    this.lastSampleAt = this.now();
    return this.updateRun((x) => addReadings(x, readings));
  }

  /** Waits out the bake (the time left, after a restart), reading the gates every sampleMs and acting on a breach at once. */
  private async bake(): Promise<ChangeRequest> {
    const { store, display, sampleMs } = this.d;
    const tickMs = this.d.tickMs ?? 500;
    const gates = this.c.plan.gates;
    for (;;) {
      let r = await store.mustGet(this.id);
      if (r.status !== 'applying' || r.ramp?.phase !== 'baking' || this.d.stopping?.()) return r;
      const bakeEnd = r.ramp.bakeStartedAt! + this.c.plan.bakeMs;
      if (gates.length > 0 && (this.now() - this.lastSampleAt >= sampleMs || (this.now() >= bakeEnd && this.lastSampleAt < bakeEnd))) {
        r = await this.sample();
        if (r.ramp?.phase !== 'baking') return r;
        void display.showRequest(r);
      }
      const run = r.ramp!;
      const left = bakeLeftMs(run, this.c.plan, this.now());
      const verdict = judge(run, gates, left === 0);
      if (verdict.kind === 'breach') return this.breach(verdict.problems[0]!);
      if (left === 0) {
        if (verdict.kind === 'healthy') {
          r = await this.updateRun((x) => (x.phase === 'baking' ? advance(x, this.c.plan) : x));
          void display.showRequest(r);
          return r;
        }
        if (verdict.kind === 'inconclusive') {
          // Violating but not yet a breach: more samples settle it either way. No data: a person decides.
          const settling = verdict.problems.every((p) => p.readings.at(-1)?.kind === 'value');
          if (!settling) {
            const because = `the gates are inconclusive, and no data is never taken as healthy: ${verdict.problems.map((p) => p.reason).join('; ')}`;
            r = await this.updateRun((x) => pause(x, because));
            await display.rampNews(r, { kind: 'paused', because });
            return r;
          }
        }
      }
      const untilSample = gates.length > 0 ? Math.max(0, this.lastSampleAt + sampleMs - this.now()) : Number.POSITIVE_INFINITY;
      await sleep(Math.max(10, Math.min(tickMs, left > 0 ? left : sampleMs, untilSample)));
    }
  }

  private async breach(problem: GateProblem): Promise<ChangeRequest> {
    const { display } = this.d;
    const rollback = this.c.plan.onFailure === 'rollback';
    const because = `gate “${problem.gate}” breached`;
    const r = await this.updateRun((x) => (x.phase !== 'baking' ? x : rollback ? startRollback(x, { gate: problem.gate }, because) : pause(x, `${because}: ${problem.reason}`)));
    await display.rampNews(r, { kind: 'breach', problem });
    void display.showRequest(r);
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
        if (sameWeights(weightsOf(snapshot), this.c.from)) break;
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
