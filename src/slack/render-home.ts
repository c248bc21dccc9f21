/**
 * The App Home tab: the migration at a glance. Pure: what home-gather.ts read goes in, a Home
 * view comes out. Slack refuses a view of more than 100 blocks, so services still moving are
 * listed first (packed several to a block when there are many) and those fully on Kubernetes
 * are summarised in one line.
 */
import type { ChangeRequest } from '../core/change-request.js';
import type { DriftState } from '../core/drift.js';
import type { CronWitnessRecord } from '../store/cron-witness-store.js';
import { applyDurationMs } from '../core/change-request.js';
import { type Block, actions, button, context, packedSections, section } from './blocks.js';
import { escapeText, formatDuration, mention, slackDate } from './escape.js';
import { rampStatusLine } from './render-ramp.js';
import { describeChange } from './render-request.js';
import { statusVersionLine } from './render-drift.js';

/** Slack's limit for a Home view. */
export const MAX_VIEW_BLOCKS = 100;
export const HOME_REFRESH = 'home_refresh';

export type ShareReading = { readonly kubernetesPercent: number; readonly bothZero: boolean } | { readonly unknown: string };

export interface HomeService {
  readonly name: string;
  readonly recordName: string;
  readonly share: ShareReading;
  readonly open?: { readonly request: ChangeRequest; readonly link?: string };
  readonly last?: ChangeRequest;
  /** Undefined: the service has no version sources. */
  readonly versions?: DriftState | 'not-checked';
}

export interface HomeCronJob {
  readonly job: string;
  readonly placement: 'kubernetes' | 'ec2' | { readonly unknown: string };
  readonly lastRun?: { readonly name: string; readonly at: number; readonly outcome: string } | { readonly unknown: string };
  /** null: free; a string names the holder; unknown: could not be read. */
  readonly holder: string | null | { readonly unknown: string };
  /** What the first scheduled run after the job's last move showed (src/queue/witness-cron-move.ts). */
  readonly witness?: CronWitnessRecord;
}

export interface HomeState {
  readonly services: readonly HomeService[];
  readonly cronJobs: readonly HomeCronJob[];
  readonly history: readonly ChangeRequest[];
  readonly now: number;
}

export interface HomeView {
  readonly type: 'home';
  readonly blocks: readonly Block[];
}

const BAR = 10;

/** `▓▓▓▓▓▓░░░░ 60% Kubernetes` */
export function shareBar(percent: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * BAR);
  return `${'▓'.repeat(filled)}${'░'.repeat(BAR - filled)} ${percent}% Kubernetes`;
}

/** What a request changes, in words; a change kind this file does not know is named, not guessed. */
export function changeText(r: ChangeRequest): string {
  const c = r.change as { kind: string; service?: unknown; job?: unknown };
  if (c.kind === 'weight' || c.kind === 'cron' || c.kind === 'ramp') return describeChange(r);
  const target = typeof c.service === 'string' ? c.service : typeof c.job === 'string' ? c.job : 'unknown target';
  return `${target}: ${c.kind}`;
}

function known(s: HomeService): s is HomeService & { share: { kubernetesPercent: number; bothZero: boolean } } {
  return !('unknown' in s.share);
}

function serviceText(s: HomeService, now: number): string {
  const lines = [`*${escapeText(s.name)}* (${escapeText(s.recordName)})`];
  if (known(s)) {
    lines.push(`\`${shareBar(s.share.kubernetesPercent)}\``);
    if (s.share.bothZero) lines.push(':warning: both weights are 0, so Route 53 serves it 50/50');
  } else if ('unknown' in s.share) {
    lines.push(`:grey_question: split unknown: ${escapeText(s.share.unknown)}`);
  }
  if (s.open) {
    const r = s.open.request;
    const what = `#${r.id} (${r.status})`;
    const where = s.open.link ? `<${s.open.link}|${what}>` : r.message ? `${what} in <#${r.message.channel}>` : what;
    lines.push(`Open request ${where} from ${mention(r.requestedBy)}: \`${escapeText(changeText(r))}\``);
    // A running ramp: where it stands, as in /strangle status.
    const ramp = rampStatusLine(r, now);
    if (ramp) lines.push(ramp);
  }
  if (s.last) {
    const r = s.last;
    const who = r.decidedBy ? `${mention(r.requestedBy)}, approved by ${mention(r.decidedBy)}` : mention(r.requestedBy);
    lines.push(`Last change #${r.id}: \`${escapeText(changeText(r))}\` by ${who}, ${slackDate(r.finishedAt ?? r.requestedAt)}`);
  }
  if (s.versions === 'not-checked') lines.push('Versions: not checked yet.');
  else if (s.versions) lines.push(statusVersionLine(s.versions, now));
  return lines.join('\n');
}

function cronText(c: HomeCronJob): string {
  const where = typeof c.placement === 'string' ? (c.placement === 'kubernetes' ? 'Kubernetes' : 'EC2') : `unknown (${escapeText(c.placement.unknown)})`;
  const run =
    c.lastRun === undefined
      ? 'no Kubernetes run in the last 7 days'
      : 'unknown' in c.lastRun
        ? `last run unknown (${escapeText(c.lastRun.unknown)})`
        : `last Kubernetes run \`${escapeText(c.lastRun.name)}\` ${slackDate(c.lastRun.at)}, ${escapeText(c.lastRun.outcome)}`;
  const lock =
    c.holder === null ? 'lock free' : typeof c.holder === 'string' ? `lock held by ${escapeText(c.holder)}` : `lock unknown (${escapeText(c.holder.unknown)})`;
  const text = `*${escapeText(c.job)}*: runs on ${where} · ${run} · ${lock}`;
  return c.witness ? `${text}\n${witnessText(c.witness)}` : text;
}

/**
 * Which side ran the witnessed run: after a move to Kubernetes a Job it started is the proof;
 * after a move to EC2, Kubernetes starting nothing means cron.d on EC2 had it (its lock says who).
 */
function witnessText(w: CronWitnessRecord): string {
  const head = `Last witnessed run (after move #${w.requestId} to ${w.movedTo === 'kubernetes' ? 'Kubernetes' : 'EC2'}, looked ${slackDate(w.at)}):`;
  const lock = w.holder === undefined ? 'the lock could not be read' : w.holder === null ? 'the lock was free' : `the lock was held by ${escapeText(w.holder)}`;
  let side: string;
  if (w.run) side = `Kubernetes ran \`${escapeText(w.run.name)}\` (${escapeText(w.run.outcome)})${w.movedTo === 'ec2' ? ' :warning: after the move to EC2' : ''}`;
  else side = w.movedTo === 'ec2' ? 'Kubernetes started nothing, so cron.d on EC2 had the run' : ':warning: Kubernetes started no Job';
  return `${head} ${side}; ${lock}`;
}

function historyText(r: ChangeRequest): string {
  const took = applyDurationMs(r);
  const outcome = r.status === 'applied' && took !== undefined ? `applied in ${formatDuration(took)}` : r.status;
  return `*#${r.id}* \`${escapeText(changeText(r))}\` · ${mention(r.requestedBy)} ${slackDate(r.requestedAt)} · *${outcome}*`;
}

function progress(services: readonly HomeService[]): string {
  const read = services.filter(known);
  const full = read.filter((s) => s.share.kubernetesPercent === 100).length;
  const avg = read.length ? Math.round(read.reduce((n, s) => n + s.share.kubernetesPercent, 0) / read.length) : 0;
  const unknown = services.length - read.length;
  return [
    `*Migration progress*: ${full} of ${services.length} service${services.length === 1 ? '' : 's'} fully on Kubernetes`,
    `Average Kubernetes share \`${shareBar(avg)}\`${unknown ? ` (of the ${read.length} whose split could be read; ${unknown} unknown)` : ''}`,
  ].join('\n');
}

/** Names, cut to fit one section, saying how many were left out. */
function nameList(names: readonly string[]): string {
  let text = '';
  for (let i = 0; i < names.length; i++) {
    const next = `${text ? `${text}, ` : ''}${escapeText(names[i]!)}`;
    if (next.length > 2800) return `${text} and ${names.length - i} more`;
    text = next;
  }
  return text;
}

export function renderHome(state: HomeState): HomeView {
  const { services, now } = state;
  const moving = services.filter((s) => !known(s) || s.share.kubernetesPercent < 100);
  // Unknown rows first: they are the ones that need a look.
  moving.sort((a, b) => Number(known(a)) - Number(known(b)));
  const done = services.filter((s) => known(s) && s.share.kubernetesPercent === 100);

  const head: Block[] = [
    section(services.length ? progress(services) : 'No services are configured. Add them under `services:` in strangler.yml.'),
    actions('home', button('Refresh', HOME_REFRESH, 'refresh')),
    context(`Read live ${slackDate(now)}. Change a split with \`/strangle <service> <0-100> [reason]\`.`),
  ];
  const tail: Block[] = [];
  if (done.length) tail.push(section(`*Fully on Kubernetes (${done.length})*: ${nameList(done.map((s) => s.name))}`));
  if (state.cronJobs.length) {
    tail.push({ type: 'divider' }, section(`*Cron jobs (${state.cronJobs.length})*`));
    tail.push(...packedSections(state.cronJobs.map(cronText), 5, (left) => `…and ${left} more: \`/strangle cron\` lists them all.`, '\n'));
  }
  tail.push({ type: 'divider' });
  if (state.history.length) {
    tail.push(section(`*Last ${state.history.length} change request${state.history.length === 1 ? '' : 's'}*`));
    tail.push(...packedSections(state.history.map(historyText), 3, (left) => `…and ${left} more.`, '\n'));
  } else {
    tail.push(section('No change requests yet.'));
  }

  const middle: Block[] = [];
  if (moving.length) {
    middle.push({ type: 'divider' }, section(`*Not yet fully on Kubernetes (${moving.length})*`));
    const room = MAX_VIEW_BLOCKS - head.length - tail.length - middle.length;
    middle.push(...packedSections(moving.map((s) => serviceText(s, now)), room, (left) => `…and ${left} more not yet on Kubernetes: \`/strangle status\` lists them all.`));
  }
  return { type: 'home', blocks: [...head, ...middle, ...tail] };
}

/** For someone the access rules do not name: nothing about the services, and nothing changed. */
export function renderNotMember(): HomeView {
  return {
    type: 'home',
    blocks: [
      section('*strangler* moves services from EC2 to Kubernetes.'),
      section('You are not a member of this migration (neither an approver nor a requester in strangler.yml), so the dashboard is not shown. Ask an approver to add you.'),
    ],
  };
}
