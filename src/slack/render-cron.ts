/** Cron job listings and the witness report that proves a move worked. Pure. */
import type { ChangeRequest } from '../core/change-request.js';
import { StranglerError } from '../core/errors.js';
import type { CronJobState, JobSummary } from '../core/ports.js';
import { type Block, MAX_BLOCKS, type SlackMessage, context, packedSections, section } from './blocks.js';
import { escapeText, mention, slackDate } from './escape.js';
import { describeChange } from './render-request.js';

export interface CronJobStatus {
  readonly job: string;
  readonly namespace: string;
  readonly name: string;
  readonly lockKey: string;
  readonly state: CronJobState | Error;
  /** null: free; undefined: could not be read. */
  readonly holder: string | null | undefined;
  readonly open?: ChangeRequest | undefined;
}

function problem(err: Error): string {
  return err instanceof StranglerError ? `${escapeText(err.message)}${err.hint ? ` ${escapeText(err.hint)}` : ''}` : 'could not be read (see the bot logs).';
}

export function cronJobLines(s: CronJobStatus): string {
  const lines = [`*${s.job}* (CronJob ${s.namespace}/${s.name})`];
  if (s.state instanceof Error) {
    lines.push(`:warning: ${problem(s.state)}`);
  } else {
    const where = s.state.suspended ? 'EC2 (the CronJob is suspended)' : 'Kubernetes (the CronJob is active)';
    const tz = s.state.timeZone ? ` ${escapeText(s.state.timeZone)}` : ' UTC';
    const last = s.state.lastScheduleTime ? slackDate(s.state.lastScheduleTime.getTime()) : 'never';
    lines.push(`Runs on ${where} · schedule \`${escapeText(s.state.schedule)}\`${tz} · last scheduled by Kubernetes ${last}`);
    if (s.state.active.length) lines.push(`Kubernetes Jobs running now: ${s.state.active.map((j) => `\`${escapeText(j)}\``).join(', ')}`);
  }
  const lock =
    s.holder === undefined ? 'could not be read' : s.holder === null ? 'free (no run in progress)' : `held by ${escapeText(s.holder)} (a run is in progress)`;
  lines.push(`Lock \`${escapeText(s.lockKey)}\`: ${lock}`);
  if (s.open) lines.push(`Open request #${s.open.id} (${s.open.status}) from ${mention(s.open.requestedBy)}: \`${describeChange(s.open)}\``);
  return lines.join('\n');
}

export function renderCronList(jobs: readonly CronJobStatus[]): SlackMessage {
  if (jobs.length === 0) return { text: 'No cron jobs are configured.', blocks: [section('No cron jobs are configured. Add them under `cronjobs:` in strangler.yml.')] };
  const blocks: Block[] = packedSections(jobs.map(cronJobLines), MAX_BLOCKS - 1, (left) => `…and ${left} more: ask for one with \`/strangle status <job>\`.`);
  return { text: `${jobs.length} cron job(s)`, blocks: [...blocks, context('Move one with `/strangle cron <job> k8s|ec2 [reason]`.')] };
}

/** What happened at the first scheduled run after a move, posted in the approval thread. */
export function renderWitness(r: ChangeRequest, jobs: readonly JobSummary[], holder: string | null | undefined, lockKey: string): SlackMessage {
  if (r.change.kind !== 'cron') throw new Error('witness reports are for cron moves');
  const name = r.change.job;
  const job = jobs[0];
  const lock =
    holder === undefined ? 'The lock could not be read.' : holder === null ? `Nobody held \`${escapeText(lockKey)}\` when I looked.` : `\`${escapeText(lockKey)}\` was held by ${escapeText(holder)} when I looked.`;
  let text: string;
  if (r.change.to === 'kubernetes') {
    text = job
      ? `:white_check_mark: Witness for #${r.id}: Kubernetes started Job \`${escapeText(job.name)}\` at ${slackDate(job.createdAt.getTime())}; it ${job.outcome === 'running' ? 'is still running' : job.outcome}. ${lock}`
      : `:warning: Witness for #${r.id}: Kubernetes has not started a Job for \`${name}\` since the move. ${lock} Check the CronJob's events with \`kubectl describe cronjob\`.`;
  } else {
    text = job
      ? `:warning: Witness for #${r.id}: Kubernetes still started Job \`${escapeText(job.name)}\` after the move to EC2. ${lock}`
      : `:white_check_mark: Witness for #${r.id}: Kubernetes did not start \`${name}\` after the move, as intended. ${lock}${holder === null ? ' Check that cron.d on EC2 ran it.' : ''}`;
  }
  return { text, blocks: [section(text)] };
}
