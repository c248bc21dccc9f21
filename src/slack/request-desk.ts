/**
 * Turns what people type and click into requests and decisions. Reads live state, checks
 * policy, records everything in the store, and leaves every write to the outside world to the
 * worker. Every method either succeeds or throws a StranglerError meant for the clicker.
 */
import { randomBytes } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Config, ServiceConfig } from '../config/schema.js';
import { assertMayApprove, assertMayReject, assertMayRequest } from '../core/approval-policy.js';
import type { Change, ChangeRequest, MessageRef } from '../core/change-request.js';
import { isRollbackPoint, serviceKey, targetKey, targetName } from '../core/change-request.js';
import { CannotRollBack, NoChange, NothingToRollBack, NotTheRequester, RampRefused, RequestClosed, SlackFailed, StaleButton, Unreachable } from '../core/errors.js';
import type { Gate } from '../core/gate.js';
import { weightsOf } from '../core/pair-snapshot.js';
import type { Clock, WeightedPair, WeightedPairTarget } from '../core/ports.js';
import { formatWeights, sameWeights, splitFromWeights, weightsForPercent } from '../core/split.js';
import { assertStepAllowed } from '../core/step-policy.js';
import type { MetricReader } from '../core/gate.js';
import { buildRampPlan } from '../core/ramp-plan.js';
import { RampActions } from './ramp-actions.js';
import type { ChangeQueue } from '../queue/change-queue.js';
import type { RequestStore } from '../store/request-store.js';
import type { ButtonValue } from './button-value.js';
import type { GroupResolver } from './group-members.js';
import { type Notifier, slackErrorCode } from './notifier.js';
import { plain } from './blocks.js';
import { renderApprovalMessage } from './render-request.js';

export interface Origin {
  readonly user: string;
  readonly channel: string;
}

/** A button click as Slack reports it. */
export interface Click {
  /** What the button carries; undefined when it is not a value this bot makes. */
  readonly value: ButtonValue | undefined;
  readonly user: string;
  /** The message the button is on. */
  readonly message: MessageRef | undefined;
}

/** Reads where a cron job runs now; supplied once cron moves are configured. */
export type CronPlacementReader = (job: string) => Promise<'kubernetes' | 'ec2'>;

export interface DeskDeps {
  readonly config: Config;
  readonly store: RequestStore;
  readonly pairs: WeightedPair;
  readonly queue: ChangeQueue;
  readonly client: WebClient;
  readonly groups: GroupResolver;
  readonly clock: Clock;
  readonly notifier: Notifier;
  readonly cronPlacement?: CronPlacementReader;
  /** Checks each gate's query before a ramp is queued (Prometheus parses the PromQL). */
  readonly metricReader?: MetricReader;
}

function serviceConfig(config: Config, service: string): ServiceConfig {
  const s = config.services[service];
  if (!s) throw new Error(`service ${service} is not configured`);
  return s;
}

export function pairTarget(config: Config, service: string): WeightedPairTarget {
  return serviceConfig(config, service).route53;
}

export class RequestDesk {
  constructor(private readonly deps: DeskDeps) {}

  private async mayRequest(user: string): Promise<void> {
    const { requesters } = this.deps.config.slack;
    assertMayRequest(user, this.deps.config.slack, await this.deps.groups.membersOf(requesters));
  }

  async requestWeight(service: string, percent: number, reason: string, origin: Origin): Promise<ChangeRequest> {
    await this.mayRequest(origin.user);
    const { maxStep, route53 } = serviceConfig(this.deps.config, service);
    const snapshot = await this.deps.pairs.read(route53);
    const from = weightsOf(snapshot);
    const to = weightsForPercent(percent);
    if (sameWeights(from, to)) throw new NoChange(service, formatWeights(to));
    assertStepAllowed(service, splitFromWeights(from).kubernetesPercent, percent, maxStep);
    return this.open({ kind: 'weight', service, from, to, snapshot }, reason, origin);
  }

  /** `/strangle api rollback`: undo the last applied change of the service. */
  async requestRollbackOfLatest(service: string, reason: string, origin: Origin): Promise<ChangeRequest> {
    const last = await this.deps.store.lastApplied(serviceKey(service));
    if (!last) throw new NothingToRollBack(service);
    return this.requestRollback(last, reason, origin);
  }

  /** Rollback of a given applied request: its target is the state before that request. */
  async requestRollback(of: ChangeRequest, reason: string, origin: Origin): Promise<ChangeRequest> {
    await this.mayRequest(origin.user);
    if (!isRollbackPoint(of)) throw new NothingToRollBack(targetName(of.change));
    // Rollbacks skip maxStep and may be self-approved: allow them only for the latest change, so
    // an old Roll back button cannot jump a service back to a split from weeks ago.
    const latest = await this.deps.store.lastApplied(targetKey(of.change));
    if (latest && latest.id !== of.id) throw new CannotRollBack(of.id, `a later change, #${latest.id}, was applied since`, `Roll back #${latest.id} instead, or request the split you want.`);
    const c = of.change;
    if (c.kind !== 'cron' && c.from.kubernetes === 0 && c.from.ec2 === 0) {
      throw new CannotRollBack(of.id, 'before it both weights were 0, which Route 53 serves as 50/50, and the bot never writes 0/0', `Request the split you want, e.g. \`/strangle ${c.service} 50\`.`);
    }
    // A finished ramp is undone like one weight change: back to the split before it.
    if (c.kind === 'weight' || c.kind === 'ramp') {
      const snapshot = await this.deps.pairs.read(pairTarget(this.deps.config, c.service));
      const from = weightsOf(snapshot);
      if (sameWeights(from, c.from)) throw new NoChange(c.service, formatWeights(c.from));
      return this.open({ kind: 'weight', service: c.service, from, to: c.from, snapshot }, reason, origin, of.id);
    }
    const now = await this.readCron(c.job);
    if (now === c.from) throw new NoChange(c.job, c.from === 'kubernetes' ? 'Kubernetes' : 'EC2');
    return this.open({ kind: 'cron', job: c.job, from: now, to: c.from }, reason, origin, of.id);
  }

  /**
   * The Restore button of an outside-change alert: a normal request, through approval, back to the
   * split the bot expects. Like a rollback it is exempt from maxStep: it undoes a jump someone
   * made outside the bot, back to a split that was approved (or accepted) before.
   */
  async requestRestore(service: string, percent: number, reason: string, origin: Origin): Promise<ChangeRequest> {
    await this.mayRequest(origin.user);
    const snapshot = await this.deps.pairs.read(pairTarget(this.deps.config, service));
    const from = weightsOf(snapshot);
    const to = weightsForPercent(percent);
    if (sameWeights(from, to)) throw new NoChange(service, formatWeights(to));
    return this.open({ kind: 'weight', service, from, to, snapshot }, reason, origin);
  }

  /** `/strangle api ramp [steps every bake]`: the plan, checked against the split now and each gate's source. */
  async requestRamp(service: string, inline: { steps?: readonly number[]; bake?: string }, reason: string, origin: Origin): Promise<ChangeRequest> {
    await this.mayRequest(origin.user);
    const svc = serviceConfig(this.deps.config, service);
    const snapshot = await this.deps.pairs.read(svc.route53);
    const from = weightsOf(snapshot);
    const split = splitFromWeights(from);
    if (split.bothZero) {
      throw new RampRefused(`Both weights of \`${service}\` are 0, which Route 53 serves as 50/50; a ramp could not return to that.`, `Set a split first, e.g. \`/strangle ${service} 50\`.`);
    }
    const r = svc.ramp;
    const settings = r ? { steps: r.steps, bakeMs: r.bake, onFailure: r.onFailure, gates: r.gates, allowWithoutGates: r.allowWithoutGates } : undefined;
    const plan = buildRampPlan(service, split.kubernetesPercent, svc.maxStep, settings, inline);
    await this.checkGates(plan.gates);
    return this.open({ kind: 'ramp', service, from, snapshot, plan }, reason, origin);
  }

  /** Every gate's query must run before anyone is asked to approve it: the source's own error text otherwise. */
  private async checkGates(gates: readonly Gate[]): Promise<void> {
    if (gates.length === 0) return;
    const reader = this.deps.metricReader;
    if (!reader) throw new RampRefused('This bot has no metrics reader configured, so it cannot judge gates.');
    const problems = await Promise.all(gates.map(async (g) => ({ g, problem: await reader.check(g) })));
    const bad = problems.filter((p) => p.problem !== undefined);
    if (bad.length > 0) {
      throw new RampRefused(
        `Gate${bad.length > 1 ? 's' : ''} cannot be read, so no ramp was requested:\n${bad.map((b) => `• ${b.g.name}: ${b.problem}`).join('\n')}`,
        'Fix the query in strangler.yml (services.<name>.ramp.gates) and try again.',
      );
    }
  }

  /** Pause, Resume and Abort of a running ramp. */
  get ramps(): RampActions {
    return new RampActions(this.deps, (click) => this.forButton(click));
  }

  async requestCronMove(job: string, to: 'kubernetes' | 'ec2', reason: string, origin: Origin): Promise<ChangeRequest> {
    await this.mayRequest(origin.user);
    const from = await this.readCron(job);
    if (from === to) throw new NoChange(job, to === 'kubernetes' ? 'Kubernetes' : 'EC2');
    return this.open({ kind: 'cron', job, from, to }, reason, origin);
  }

  private async readCron(job: string): Promise<'kubernetes' | 'ec2'> {
    if (!this.deps.cronPlacement) throw new Unreachable('Cron moves are not set up on this bot (no Kubernetes access configured).');
    return this.deps.cronPlacement(job);
  }

  /** Records the request, posts the approval message and arms its expiry. */
  private async open(change: Change, reason: string, origin: Origin, rollbackOf?: number): Promise<ChangeRequest> {
    const { store, config, clock, client, queue } = this.deps;
    const now = clock.now();
    let r = await store.create({
      change,
      reason,
      requestedBy: origin.user,
      requestedAt: now,
      expiresAt: now + config.slack.approvalTimeoutMinutes * 60_000,
      // Not the response_url: it is a capability to post as the bot for 30 minutes.
      origin: { channel: origin.channel },
      buttonKey: randomBytes(12).toString('base64url'),
      ...(rollbackOf !== undefined ? { rollbackOf } : {}),
    });
    const channel = config.slack.approvalChannel ?? origin.channel;
    const m = renderApprovalMessage(r);
    let posted: { channel: string; ts: string };
    try {
      const res = await client.chat.postMessage({ channel, text: m.text, blocks: [...m.blocks] });
      posted = { channel: res.channel ?? channel, ts: res.ts ?? '' };
    } catch (err) {
      // Without an approval message nobody can decide: close the request rather than leave it open.
      // Unless somebody already decided: then Slack did show the message, only its answer was lost.
      const closed = await store.apply(r.id, { type: 'cancel', by: origin.user, at: clock.now() }).catch((e: unknown) => {
        if (e instanceof RequestClosed) return undefined;
        throw e;
      });
      if (!closed) return store.mustGet(r.id);
      const code = slackErrorCode(err);
      throw new SlackFailed(
        `Could not post the approval message to <#${channel}> (${code}), so request #${r.id} was withdrawn.`,
        code === 'not_in_channel' || code === 'channel_not_found' ? `Invite the bot to <#${channel}> and try again.` : 'Try again in a minute.',
      );
    }
    try {
      r = await store.setMessage(r.id, posted);
    } catch (err) {
      // Redis went away between creating the request and recording its message: the buttons
      // could never be honoured, so take them off and say how to clean up.
      const text = `Request #${r.id} could not be recorded completely (the bot lost its Redis store), so this message has no buttons. Withdraw it with \`/strangle cancel ${r.id}\` and ask again.`;
      const m = plain(text);
      await client.chat.update({ channel: posted.channel, ts: posted.ts, text, blocks: [...m.blocks] }).catch(() => undefined);
      throw new Unreachable(`Request #${r.id} was created but could not be completed: the bot cannot reach its Redis store.`, err);
    }
    // A click may have decided it while the post was still on its way back.
    if (r.status === 'requested') await queue.scheduleExpiry(r.id, r.expiresAt);
    return r;
  }

  /**
   * The request a button belongs to, refusing buttons of any other message. The button's key says
   * so by itself, so a click is honoured even before the poster has recorded the message's ts.
   */
  async forButton(click: Click): Promise<ChangeRequest> {
    if (!click.value) throw new StaleButton(undefined);
    const { id, key } = click.value;
    const r = await this.deps.store.mustGet(id);
    const own = r.buttonKey !== undefined ? key === r.buttonKey : click.message !== undefined && r.message?.ts === click.message.ts;
    if (!own) throw new StaleButton(id);
    return r;
  }

  async approve(click: Click): Promise<ChangeRequest> {
    const { store, config, groups, clock } = this.deps;
    const r0 = await this.forButton(click);
    const id = r0.id;
    if (r0.status === 'requested' && clock.now() >= r0.expiresAt) {
      // Its expiry job has not run yet (no worker, or late): expire it here rather than approve it,
      // and take its buttons off, since the expiry job will find nothing left to do.
      const expired = await store.apply(id, { type: 'expire', at: clock.now() }, click.message).catch(() => undefined);
      if (expired) await this.deps.notifier.showRequest(expired);
      throw new RequestClosed(id, 'expired');
    }
    assertMayApprove(click.user, r0, config.slack, await groups.membersOf(config.slack.approvers));
    return store.apply(id, { type: 'approve', by: click.user, at: clock.now() }, click.message);
  }

  /**
   * Hands an approved request to the worker; the sweep re-does this if the process dies first.
   * @param shown whether the message already says "approved, applying…", so the worker does not
   *   say it a second time.
   */
  async dispatch(id: number, shown: boolean): Promise<void> {
    await this.deps.queue.enqueueApply(id, { approvalShown: shown });
  }

  async reject(click: Click): Promise<ChangeRequest> {
    const { store, config, groups, clock } = this.deps;
    const r0 = await this.forButton(click);
    assertMayReject(click.user, config.slack, await groups.membersOf(config.slack.approvers));
    return store.apply(r0.id, { type: 'reject', by: click.user, at: clock.now() }, click.message);
  }

  async cancel(id: number, user: string): Promise<ChangeRequest> {
    const { store, clock } = this.deps;
    const r0 = await store.mustGet(id);
    if (r0.requestedBy !== user) throw new NotTheRequester(id);
    const r = await store.apply(id, { type: 'cancel', by: user, at: clock.now() });
    return r;
  }
}
