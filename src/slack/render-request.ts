/**
 * The approval message through a request's whole life, and the private acknowledgement the
 * requester sees. Pure: request in, Block Kit out. Every state says what happened and what next.
 */
import type { ChangeRequest } from '../core/change-request.js';
import { applyDurationMs, isRollbackPoint, targetName } from '../core/change-request.js';
import { formatWeights } from '../core/split.js';
import { ACTION, type SlackMessage, actions, button, context, section } from './blocks.js';
import { buttonValue } from './button-value.js';
import { escapeText, formatDuration, mention, slackDate } from './escape.js';
import { describeRamp, renderRampMessage } from './render-ramp.js';

const PLACE = { kubernetes: 'Kubernetes', ec2: 'EC2' } as const;

/** `api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%` */
export function describeChange(r: ChangeRequest): string {
  const c = r.change;
  if (c.kind === 'weight') return `${c.service}: ${formatWeights(c.from)} → ${formatWeights(c.to)}`;
  if (c.kind === 'ramp') return describeRamp(c);
  return `${c.job}: ${PLACE[c.from]} → ${PLACE[c.to]}`;
}

function title(r: ChangeRequest): string {
  const what = r.change.kind === 'weight' ? 'traffic shift' : 'cron move';
  return r.rollbackOf !== undefined ? `rollback of #${r.rollbackOf}` : what;
}

function reasonLine(r: ChangeRequest): string[] {
  return r.reason ? [`Reason: ${escapeText(r.reason)}`] : [];
}

function header(r: ChangeRequest): string {
  return `*Request #${r.id}* (${title(r)}) from ${mention(r.requestedBy)}\n\`${describeChange(r)}\``;
}

function notes(r: ChangeRequest): string[] {
  return (r.notes ?? []).map(escapeText);
}

function failureText(r: ChangeRequest): string {
  const f = r.failure;
  if (!f) return '';
  return `${escapeText(f.message)}${f.hint ? `\n${escapeText(f.hint)}` : ''}`;
}

export function renderApprovalMessage(r: ChangeRequest): SlackMessage {
  if (r.change.kind === 'ramp') return renderRampMessage(r, r.change);
  const name = targetName(r.change);
  const base = [section(header(r))];
  const ctx = (...more: string[]) => {
    const items = [...reasonLine(r), `Requested ${slackDate(r.requestedAt)}`, ...more];
    return context(...items);
  };
  switch (r.status) {
    case 'requested':
      return {
        text: `Request #${r.id} waits for approval: ${describeChange(r)}`,
        blocks: [
          ...base,
          ctx(`Expires ${slackDate(r.expiresAt)} if nobody decides.`),
          actions(`request-${r.id}`, button('Approve', ACTION.approve, buttonValue(r), 'primary'), button('Reject', ACTION.reject, buttonValue(r), 'danger')),
        ],
      };
    case 'approved':
    case 'applying':
      return {
        text: `Request #${r.id} approved by ${mention(r.decidedBy ?? '')}, applying…`,
        blocks: [...base, section(`:hourglass_flowing_sand: Approved by ${mention(r.decidedBy ?? '')}, applying…`), ctx()],
      };
    case 'applied': {
      const took = applyDurationMs(r);
      const c = r.change;
      const now = c.kind === 'weight' ? `${name} now serves ${formatWeights(c.to)}` : c.kind === 'cron' ? `${name} now runs on ${PLACE[c.to]}` : '';
      return {
        text: `Request #${r.id} applied: ${now}`,
        blocks: [
          ...base,
          section(
            `:white_check_mark: Applied and verified: ${now}.` +
              (took !== undefined ? ` Took ${formatDuration(took)} from approval.` : '') +
              `\nApproved by ${mention(r.decidedBy ?? '')}.` +
              notes(r).map((n) => `\n${n}`).join(''),
          ),
          ctx(),
          actions(`applied-${r.id}`, button('Roll back', ACTION.rollback, buttonValue(r))),
        ],
      };
    }
    case 'rejected':
      return {
        text: `Request #${r.id} rejected by ${mention(r.decidedBy ?? '')}; nothing changed.`,
        blocks: [...base, section(`:no_entry_sign: Rejected by ${mention(r.decidedBy ?? '')}. Nothing changed.`), ctx()],
      };
    case 'cancelled':
      return {
        text: `Request #${r.id} withdrawn; nothing changed.`,
        blocks: [...base, section(`:leftwards_arrow_with_hook: Withdrawn by ${mention(r.decidedBy ?? r.requestedBy)}. Nothing changed.`), ctx()],
      };
    case 'expired':
      return {
        text: `Request #${r.id} expired; nothing changed.`,
        blocks: [
          ...base,
          section(`:alarm_clock: Expired: nobody decided within the approval time. Nothing changed. Make a new request if it is still needed.`),
          ctx(),
        ],
      };
    case 'stale':
      return {
        text: `Request #${r.id} is stale; nothing was applied.`,
        blocks: [...base, section(`:warning: Not applied, the request is stale. ${failureText(r)}`), ctx()],
      };
    case 'failed':
      return {
        text: `Request #${r.id} failed: ${escapeText(r.failure?.message ?? 'unknown error')}`,
        blocks: [
          ...base,
          section(`:x: Failed. ${failureText(r)}`),
          ctx(),
          ...(isRollbackPoint(r) ? [actions(`failed-${r.id}`, button('Roll back', ACTION.rollback, buttonValue(r)))] : []),
        ],
      };
  }
}

/** The private reply to `/strangle api 30`. */
export function renderRequestAck(r: ChangeRequest, approvalChannel: string): SlackMessage {
  if (r.status !== 'requested') {
    // Decided by a click that came before Slack had even answered the post.
    const text = `Request #${r.id} was posted in <#${approvalChannel}> and is already ${r.status}: \`${describeChange(r)}\``;
    return { text, blocks: [section(text)] };
  }
  const text = `Request #${r.id} is waiting for approval in <#${approvalChannel}>: \`${describeChange(r)}\``;
  return { text, blocks: [section(text), context(`Withdraw it with \`/strangle cancel ${r.id}\`.`)] };
}
