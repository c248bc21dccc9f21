/** Drift alerts, reminders, resolutions and the `/strangle drift` table. Pure. */
import type { DriftAction, DriftState, Reading } from '../core/drift.js';
import { classify, isError } from '../core/drift.js';
import { MAX_BLOCKS, type SlackMessage, context, packedSections, section } from './blocks.js';
import { escapeText, formatDuration, slackDate } from './escape.js';

function reading(r: Reading): string {
  if (isError(r)) return `unknown (${escapeText(r.error)})`;
  return `\`${escapeText(r.version)}\`${r.rollingTo && r.rollingTo !== r.version ? ` (rolling out \`${escapeText(r.rollingTo)}\`)` : ''}`;
}

export function versionsLine(s: DriftState): string {
  return `Kubernetes ${reading(s.kubernetes)} · EC2 ${reading(s.ec2)}`;
}

function stateWord(s: DriftState, now: number): string {
  const kind = classify(s.kubernetes, s.ec2);
  if (kind === 'in-sync') return 'in sync';
  const since = s.episode?.since ?? now;
  return `${kind === 'drift' ? 'drifting' : 'unknown'} for ${formatDuration(now - since)}${s.episode?.alert ? ', alerted' : ''}`;
}

/** The line `/strangle status` adds under a service, from the last check (no extra reads). */
export function statusVersionLine(s: DriftState | undefined, now: number): string {
  if (!s) return 'Versions: not checked yet.';
  return `Versions: ${versionsLine(s)}, ${stateWord(s, now)} (checked ${formatDuration(now - s.checkedAt)} ago)`;
}

export function renderDriftTable(states: readonly DriftState[], now: number): SlackMessage {
  if (states.length === 0) return { text: 'No services have version sources.', blocks: [section('No services have `version:` sources configured.')] };
  const lines = states.map((s) => `*${s.service}*: ${versionsLine(s)}, *${stateWord(s, now)}*`);
  const blocks = packedSections(lines, MAX_BLOCKS - 1, (left) => `…and ${left} more.`, '\n');
  return { text: `Versions of ${states.length} service(s)`, blocks: [...blocks, context('Checked just now.')] };
}

function problemText(s: DriftState): string {
  const parts: string[] = [];
  if (isError(s.kubernetes)) parts.push(`on Kubernetes: ${escapeText(s.kubernetes.error)}`);
  if (isError(s.ec2)) parts.push(`on EC2: ${escapeText(s.ec2.error)}`);
  return parts.join('; ');
}

/** The alert, and its text once resolved (the original message is updated to say so). */
export function renderDriftAlert(s: DriftState, split: string | undefined, now: number): SlackMessage {
  const since = s.episode?.since ?? now;
  if (s.episode?.kind === 'unknown') {
    const text = `:grey_question: *${s.service}*: cannot read the running version ${problemText(s)}. Since ${slackDate(since)} (${formatDuration(now - since)}). Drift cannot be checked until it is readable again.`;
    return { text, blocks: [section(text)] };
  }
  const text =
    `:rotating_light: *${s.service}* runs different versions: ${versionsLine(s)}, since ${slackDate(since)} (${formatDuration(now - since)}).` +
    (split ? `\nTraffic now: ${split}.` : '') +
    `\nBoth platforms should run the same commit: finish or roll back the deploy on the odd one.`;
  return { text, blocks: [section(text)] };
}

export function renderDriftReminder(s: DriftState, now: number): SlackMessage {
  const since = s.episode?.since ?? now;
  const text =
    s.episode?.kind === 'unknown'
      ? `Still cannot read the version of *${s.service}* after ${formatDuration(now - since)}: ${problemText(s)}.`
      : `Still drifting after ${formatDuration(now - since)}: ${versionsLine(s)}.`;
  return { text, blocks: [section(text)] };
}

export function renderDriftResolved(a: Extract<DriftAction, { type: 'resolve' }>, s: DriftState, now: number): { reply: SlackMessage; original: SlackMessage } {
  const took = formatDuration(now - a.since);
  const version = isError(s.kubernetes) ? '' : s.kubernetes.version;
  const reply =
    a.now === 'in-sync'
      ? `:white_check_mark: *${s.service}* back in sync on \`${escapeText(version)}\` after ${took}.`
      : a.now === 'unknown'
        ? `*${s.service}*: the versions can no longer be read (${problemText(s)}), so this drift episode ends after ${took}; a new alert follows if it lasts.`
        : `*${s.service}*: both versions are readable again after ${took}, but they differ: ${versionsLine(s)}.`;
  const was = a.endedKind === 'drift' ? 'ran different versions' : 'had an unreadable version';
  const original = `:white_check_mark: *${s.service}* ${was} from ${slackDate(a.since)} for ${took}. ${a.now === 'in-sync' ? `Back in sync on \`${escapeText(version)}\`.` : 'See the thread.'}`;
  return { reply: { text: reply, blocks: [section(reply)] }, original: { text: original, blocks: [section(original)] } };
}

