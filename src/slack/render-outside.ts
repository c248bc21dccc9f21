/** Out-of-band change alerts and the lines `status` adds about them. Pure. */
import type { Baseline, OutsideEnd, OutsideEpisode, OutsideState } from '../core/outside-change.js';
import { outsideButtonValue, shortSplit } from '../core/outside-change.js';
import { describeClaim, type RecordClaim } from '../core/record-claims.js';
import { actions, button, context, type SlackMessage, section } from './blocks.js';
import { escapeText, mention, slackDate } from './escape.js';

export const OUTSIDE_ACTION = { accept: 'outside_accept', restore: 'outside_restore' } as const;

function what(service: string, e: OutsideEpisode): string {
  return `*${escapeText(service)}*: weights changed outside strangler, ${shortSplit(e.from)} → ${shortSplit(e.live)}, first seen ${slackDate(e.since)}`;
}

const LEGEND = 'Splits are Kubernetes/EC2 percent.';

/** The alert while the episode lasts, posted once and updated in place when the split changes again. */
export function renderOutsideAlert(service: string, e: OutsideEpisode): SlackMessage {
  const again = e.changedAt !== e.since ? ` (changed again ${slackDate(e.changedAt)})` : '';
  const text = `${what(service, e)}${again}`;
  const value = outsideButtonValue(service, e.key);
  return {
    text: `:warning: ${text}`,
    blocks: [
      section(`:warning: ${text}`),
      context(
        `${LEGEND} Someone changed the weighted records without the bot (the console, Terraform, external-dns). ` +
          `*Restore ${shortSplit(e.from)}* asks for it back through approval; *Accept* (approvers) makes ${shortSplit(e.live)} the split strangler expects.`,
      ),
      actions(`outside-${service}`, button(`Restore ${shortSplit(e.from)}`, OUTSIDE_ACTION.restore, value, 'primary'), button('Accept', OUTSIDE_ACTION.accept, value)),
    ],
  };
}

function baselineWords(b: Baseline): string {
  if (b.source === 'applied') return 'the split strangler last applied';
  if (b.source === 'accepted') return `the split ${b.by ? mention(b.by) : 'an approver'} accepted`;
  return 'the split strangler first saw';
}

/** The alert once the episode is over: no buttons left. */
export function renderOutsideResolved(service: string, e: OutsideEpisode, end: OutsideEnd, now: number): SlackMessage {
  const head = end.type === 'returned'
    ? `Back at ${shortSplit(end.baseline.weights)}, ${baselineWords(end.baseline)}, since ${slackDate(now)}.`
    : `Accepted by ${mention(end.by)} ${slackDate(now)}: ${shortSplit(end.live)} is now the split strangler expects.`;
  const text = `:white_check_mark: ${what(service, e)}. ${head}`;
  return { text, blocks: [section(text), context(LEGEND)] };
}

/** What `status` says under a service: an outside change in progress, and records claimed by others. */
export function outsideStatusLines(state: OutsideState | undefined, claims: readonly RecordClaim[]): string[] {
  const lines: string[] = [];
  const e = state?.episode;
  if (e) {
    lines.push(
      `:warning: Changed outside strangler: ${shortSplit(e.from)} → ${shortSplit(e.live)}, first seen ${slackDate(e.since)}` +
        `${e.alert ? ' (see the alert: Restore or Accept)' : ''}.`,
    );
  }
  for (const c of claims) {
    lines.push(`:warning: This record name is also claimed by ${escapeText(describeClaim(c))}: it would put its own weights back. Exclude the name from external-dns.`);
  }
  return lines;
}
