/**
 * The Accept and Restore buttons of an outside-change alert. Both are for approvers only: Accept
 * decides what the split should be, and Restore moves traffic (it still needs a second approver's
 * Approve, like any request). Anyone else gets a private answer and nothing changes.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { Config } from '../config/schema.js';
import { assertMayReject } from '../core/approval-policy.js';
import { StranglerError } from '../core/errors.js';
import { OutsideAlertOutdated, parseOutsideButtonValue, shortSplit } from '../core/outside-change.js';
import { splitFromWeights } from '../core/split.js';
import type { Logger } from '../log.js';
import type { OutsideChecker } from '../queue/outside-check.js';
import { plain, type SlackMessage } from './blocks.js';
import { asUserError } from './command-router.js';
import { escapeText, mention } from './escape.js';
import type { FollowUps } from './follow-ups.js';
import type { GroupResolver } from './group-members.js';
import type { Notifier } from './notifier.js';
import { renderError } from './render-error.js';
import { OUTSIDE_ACTION } from './render-outside.js';
import { renderRequestAck } from './render-request.js';
import type { RequestDesk } from './request-desk.js';

export interface OutsideButtonDeps {
  readonly config: Config;
  readonly checker: OutsideChecker;
  readonly desk: RequestDesk;
  readonly groups: GroupResolver;
  readonly notifier: Notifier;
  readonly followUps: FollowUps;
  readonly log: Logger;
}

interface OutsideClick {
  readonly service: string;
  readonly key: string;
  readonly user: string;
  readonly channel: string;
}

async function assertApprover(d: OutsideButtonDeps, user: string): Promise<void> {
  // Same rule as Reject: listed approvers, or members of a listed user group.
  assertMayReject(user, d.config.slack, await d.groups.membersOf(d.config.slack.approvers));
}

async function accept(d: OutsideButtonDeps, c: OutsideClick): Promise<SlackMessage> {
  await assertApprover(d, c.user);
  const { live } = await d.checker.accept(c.service, c.key, c.user);
  return plain(`Accepted: ${shortSplit(live)} (Kubernetes/EC2) is now the split strangler expects for \`${escapeText(c.service)}\`.`);
}

async function restore(d: OutsideButtonDeps, c: OutsideClick): Promise<SlackMessage> {
  await assertApprover(d, c.user);
  const episode = await d.checker.episodeFor(c.service, c.key);
  const percent = splitFromWeights(episode.from).kubernetesPercent;
  const reason = `Restore button on the outside-change alert: back to ${shortSplit(episode.from)}, undoing ${shortSplit(episode.live)} set outside strangler (requested by ${mention(c.user)})`;
  const r = await d.desk.requestRestore(c.service, percent, reason, { user: c.user, channel: c.channel });
  return renderRequestAck(r, d.config.slack.approvalChannel ?? c.channel);
}

/** Registers both buttons on the Bolt app; the clicks are acked at once and answered privately. */
export function registerOutsideButtons(app: App, d: OutsideButtonDeps): void {
  const on = (actionId: string, handle: (d: OutsideButtonDeps, c: OutsideClick) => Promise<SlackMessage>) => {
    const answer = async (body: BlockButtonAction, action: BlockButtonAction['actions'][number]): Promise<void> => {
      const user = body.user.id;
      const channel = body.channel?.id ?? body.container?.channel_id ?? '';
      const value = parseOutsideButtonValue(action.value);
      try {
        if (!value || !d.config.services[value.service]) throw new OutsideAlertOutdated(value?.service ?? 'this service');
        await d.notifier.whisper(channel, user, await handle(d, { ...value, user, channel }));
      } catch (raw) {
        const err = asUserError(raw);
        if (!(err instanceof StranglerError)) d.log.error({ err: (raw as Error)?.stack, actionId }, 'button failed');
        else d.log.info({ actor: user, service: value?.service, actionId, refused: err.code }, 'click refused');
        await d.notifier.whisper(channel, user, renderError(err));
      }
    };
    app.action<BlockButtonAction>({ action_id: actionId }, async ({ ack, body, action }) => {
      await ack();
      await d.followUps.track(answer(body, action));
    });
  };
  on(OUTSIDE_ACTION.accept, accept);
  on(OUTSIDE_ACTION.restore, restore);
}
