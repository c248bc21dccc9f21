import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import type { Gate } from '../../src/core/gate.js';
import type { RampPlan } from '../../src/core/ramp-plan.js';
import { addReadings, advance, afterSwap, pause, reserveChild, startRollback, startRun, stepApplied, rolledBack } from '../../src/core/ramp-run.js';
import { renderApprovalMessage } from '../../src/slack/render-request.js';
import { progressBar, renderRampMessage, renderRampNews } from '../../src/slack/render-ramp.js';
import { snapshotOf } from './request-fixture.js';

const gate: Gate = { name: 'k8s 5xx ratio', prometheus: { url: 'http://p:9090', query: 'sum(rate(x[5m]))' }, max: 0.01, failureLimit: 2 };
const plan: RampPlan = { steps: [10, 25, 50, 75, 100], bakeMs: 900_000, onFailure: 'rollback', gates: [gate] };
const snap = snapshotOf({ kubernetes: 0, ec2: 100 });
const T0 = Date.UTC(2026, 0, 1);

function ramp(over: Partial<ChangeRequest> = {}, p: RampPlan = plan): ChangeRequest {
  return {
    id: 7,
    change: { kind: 'ramp', service: 'api', from: { kubernetes: 0, ec2: 100 }, snapshot: snap, plan: p },
    reason: '',
    requestedBy: 'U0ALICE',
    requestedAt: T0,
    expiresAt: T0 + 1_800_000,
    origin: { channel: 'C0OPS' },
    buttonKey: 'k',
    status: 'requested',
    ...over,
  };
}

const text = (r: ChangeRequest, now = T0) => {
  const m = renderRampMessage(r, r.change as Extract<ChangeRequest['change'], { kind: 'ramp' }>, now);
  return [m.text, ...m.blocks.map((b) => JSON.stringify(b))].join('\n');
};
const labels = (r: ChangeRequest, now = T0) =>
  renderRampMessage(r, r.change as Extract<ChangeRequest['change'], { kind: 'ramp' }>, now).blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => e.text.text) : []));

function runAt(step: number) {
  let run = startRun(snap);
  for (let i = 0; i <= step; i++) {
    run = stepApplied(reserveChild(run, 100 + i), plan, 100 + i, afterSwap(snap, { kubernetes: plan.steps[i]!, ec2: 100 - plan.steps[i]! }), T0 + i * 1000);
    if (i < step) run = advance(run, plan);
  }
  return run;
}

describe('the ramp message', () => {
  it('asks for approval with the whole plan and exactly Approve and Reject', () => {
    const r = ramp();
    const t = text(r);
    expect(renderApprovalMessage(r).text).toBe(renderRampMessage(r, r.change as never).text);
    expect(t).toContain('Kubernetes 0% · EC2 100%');
    expect(t).toContain('10%, 25%, 50%, 75%, 100%');
    expect(t).toContain('15m per step');
    expect(t).toContain('k8s 5xx ratio');
    expect(t).toContain('must stay ≤ 0.01 (breach after 2)');
    expect(t).toContain('back to Kubernetes 0% · EC2 100%');
    expect(t).toContain('never taken as healthy');
    expect(labels(r)).toEqual(['Approve', 'Reject']);
  });

  it('says plainly that nothing is watched when there are no gates', () => {
    expect(text(ramp({}, { ...plan, gates: [] }))).toContain('Nothing is being watched');
  });

  it('says what a breach does with onFailure pause', () => {
    expect(text(ramp({}, { ...plan, onFailure: 'pause' }))).toContain('stops where it is and waits for Resume or Abort');
  });

  it('shows progress, the split, the time to the next step and each gate against its bound while baking', () => {
    const run = addReadings(runAt(2), [{ gate: 'k8s 5xx ratio', at: T0, kind: 'value', value: 0.004, violates: false }]);
    const r = ramp({ status: 'applying', decidedBy: 'U0BOB', ramp: run });
    expect(progressBar(plan.steps, run)).toBe('✓ 10  ✓ 25  ▶ 50  · 75  · 100');
    const t = text(r, run.bakeStartedAt! + 300_000);
    expect(t).toContain('Kubernetes 50% · EC2 50%');
    expect(t).toContain('next step in 10 min');
    expect(t).toContain('k8s 5xx ratio: :white_check_mark: 0.004, must stay ≤ 0.01');
    expect(labels(r)).toEqual(['Pause', 'Abort']);
  });

  it('offers Resume and Abort when paused, and says why', () => {
    const r = ramp({ status: 'applying', decidedBy: 'U0BOB', ramp: pause(runAt(1), 'gate “k8s 5xx ratio” breached: <b>') });
    expect(labels(r)).toEqual(['Resume', 'Abort']);
    expect(text(r)).toContain('Paused at step 2 of 5 (25%)');
    expect(text(r)).toContain('&lt;b&gt;');
  });

  it('ends with all steps ticked, or back where it started', () => {
    let run = runAt(4);
    run = advance(run, plan);
    const done = ramp({ status: 'applied', decidedBy: 'U0BOB', ramp: run });
    expect(progressBar(plan.steps, run)).toBe('✓ 10  ✓ 25  ✓ 50  ✓ 75  ✓ 100');
    expect(text(done)).toContain('Ramp complete: api now serves Kubernetes 100% · EC2 0%');
    expect(labels(done)).toEqual(['Roll back']);
    const aborted = ramp({ status: 'failed', ramp: rolledBack(startRollback(runAt(1), { user: 'U0ALICE' }, 'aborted.')) });
    expect(text(aborted)).toContain('Aborted by <@U0ALICE>; back to Kubernetes 0% · EC2 100%');
    expect(labels(aborted)).toEqual([]);
    // Between the return to the old split and the request's end: no Pause or Abort left to click.
    const backButOpen = ramp({ status: 'applying', ramp: rolledBack(startRollback(runAt(1), { gate: 'k8s 5xx ratio' }, 'breach')) });
    expect(labels(backButOpen)).toEqual([]);
    expect(labels(ramp({ status: 'applying', ramp: startRollback(runAt(1), { user: 'U0ALICE' }, 'aborted.') }))).toEqual([]);
  });

  it('tells the thread which gate breached and its readings', () => {
    const run = startRollback(runAt(1), { gate: 'k8s 5xx ratio' }, 'breach');
    const m = renderRampNews(ramp({ status: 'applying', ramp: run }), {
      kind: 'breach',
      problem: { gate: 'k8s 5xx ratio', reason: 'k8s 5xx ratio breached its bound (≤ 0.01) on 2 consecutive samples: 0.3 (above max 0.01), 0.4 (above max 0.01)', readings: [] },
    });
    expect(m?.text).toContain('Gate breached at step 2 (25%)');
    expect(m?.text).toContain('0.3 (above max 0.01), 0.4 (above max 0.01)');
    expect(m?.text).toContain('Returning api to Kubernetes 0% · EC2 100%');
  });

  it('tells the thread a return to the old split is being tried again, and why', () => {
    const run = startRollback(runAt(1), { user: 'U0ALICE' }, 'aborted.');
    const m = renderRampNews(ramp({ status: 'applying', ramp: run }), { kind: 'rollback-retrying', because: 'Route 53 refused <the> change' });
    expect(m?.text).toContain('Could not return api to Kubernetes 0% · EC2 100% yet: Route 53 refused &lt;the&gt; change');
    expect(m?.text).toContain('tried again');
  });
});
