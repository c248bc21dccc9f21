/**
 * The running ramp's buttons. Pause and Resume need an approver; Abort may be clicked by an
 * approver or by the requester and needs no second approval: undo must not wait. Each only
 * records the decision on the run (in the store's transaction) and wakes the worker, which does
 * the writing; a worker in the middle of a bake sees it within its tick.
 */
import type { ChangeRequest } from '../core/change-request.js';
import { assertMayReject } from '../core/approval-policy.js';
import { RequestClosed } from '../core/errors.js';
import { pause, type RampRun, resume, startRollback, startRun } from '../core/ramp-run.js';
import type { Click, DeskDeps } from './request-desk.js';

export class RampActions {
  constructor(
    private readonly deps: DeskDeps,
    private readonly forButton: (click: Click) => Promise<ChangeRequest>,
  ) {}

  private async approverOnly(user: string): Promise<void> {
    const { config, groups } = this.deps;
    assertMayReject(user, config.slack, await groups.membersOf(config.slack.approvers));
  }

  /** Changes the run of an open ramp (one approved but not started yet gets its run here). */
  private async change(click: Click, fn: (run: RampRun) => RampRun): Promise<ChangeRequest> {
    const r0 = await this.forButton(click);
    return this.deps.store.update(r0.id, (r) => {
      if (r.change.kind !== 'ramp' || (r.status !== 'approved' && r.status !== 'applying')) throw new RequestClosed(r.id, r.status);
      return { ...r, ramp: fn(r.ramp ?? startRun(r.change.snapshot)) };
    });
  }

  async pause(click: Click): Promise<ChangeRequest> {
    await this.approverOnly(click.user);
    const r = await this.change(click, (run) => pause(run, '', { by: click.user }));
    await this.deps.notifier.showRequest(r);
    return r;
  }

  async resume(click: Click): Promise<ChangeRequest> {
    await this.approverOnly(click.user);
    const r = await this.change(click, (run) => resume(run, this.deps.clock.now()));
    // The worker first, the message after: a slow Slack delays neither.
    void this.deps.notifier.showRequest(r);
    await this.deps.queue.wakeApply(r.id, { approvalShown: true });
    return r;
  }

  async abort(click: Click): Promise<ChangeRequest> {
    const r0 = await this.forButton(click);
    if (click.user !== r0.requestedBy) await this.approverOnly(click.user);
    const r = await this.change(click, (run) => startRollback(run, { user: click.user }, 'aborted.'));
    // Undo must not wait: the worker is woken before the message is touched.
    const woken = this.deps.queue.wakeApply(r.id, { approvalShown: true });
    void this.deps.notifier.showRequest(r);
    await woken;
    return r;
  }
}
