/** `/strangle history`: the last requests and how each ended. Pure. */
import type { ChangeRequest } from '../core/change-request.js';
import { applyDurationMs } from '../core/change-request.js';
import { MAX_BLOCKS, type SlackMessage, context, packedSections, section } from './blocks.js';
import { escapeText, formatDuration, mention, slackDate } from './escape.js';
import { describeChange } from './render-request.js';
import { rampHistoryNote } from './render-ramp.js';

export function historyLine(r: ChangeRequest): string {
  const parts = [`*#${r.id}* \`${describeChange(r)}\`${r.rollbackOf !== undefined && r.rampOf === undefined ? ` (rollback of #${r.rollbackOf})` : ''}${rampHistoryNote(r)}`];
  parts.push(`asked by ${mention(r.requestedBy)} ${slackDate(r.requestedAt)}`);
  if (r.decidedBy) parts.push(`${r.status === 'rejected' ? 'rejected' : r.status === 'cancelled' ? 'withdrawn' : 'approved'} by ${mention(r.decidedBy)}${r.decidedAt ? ` ${slackDate(r.decidedAt)}` : ''}`);
  const took = applyDurationMs(r);
  const outcome = r.status === 'applied' && took !== undefined ? `applied in ${formatDuration(took)}` : r.status;
  parts.push(`*${outcome}*${r.failure ? `: ${escapeText(r.failure.message)}` : ''}`);
  if (r.reason) parts.push(`reason: ${escapeText(r.reason)}`);
  return parts.join(' · ');
}

export function renderHistory(requests: readonly ChangeRequest[], target?: string): SlackMessage {
  const what = target ? `\`${target}\`` : 'any service or job';
  if (requests.length === 0) return { text: `No requests yet for ${what}.`, blocks: [section(`No requests yet for ${what}.`)] };
  return {
    text: `Last ${requests.length} request(s) for ${what}`,
    blocks: [
      section(`*Last ${requests.length} request(s) for ${what}*`),
      ...packedSections(requests.map(historyLine), MAX_BLOCKS - 2, (left) => `…and ${left} more.`, '\n'),
      context('Newest first.'),
    ],
  };
}
