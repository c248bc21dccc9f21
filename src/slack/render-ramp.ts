/**
 * A ramp's one message, from approval to its end: the plan while it waits for a decision, then
 * the progress bar, the split, the time to the next step and each gate's last reading, updated in
 * place. Pure: request (and the time now) in, Block Kit out.
 */
import type { Change, ChangeRequest } from '../core/change-request.js';
import { formatDuration as formatBake } from '../core/duration.js';
import type { Gate, GateReading } from '../core/gate.js';
import { describeBound, describeReading, type GateProblem, violatesBound } from '../core/gate-verdict.js';
import { describeSteps } from '../core/ramp-plan.js';
import { bakeLeftMs, isEnded, type RampRun } from '../core/ramp-run.js';
import { formatWeights, splitFromWeights, weightsForPercent } from '../core/split.js';
import { type Block, type SlackMessage, actions, button, context, section } from './blocks.js';
import { buttonValue } from './button-value.js';
import { escapeText, formatDuration, mention, slackDate } from './escape.js';
import type { RampNews } from '../queue/ramp-driver.js';

type RampChange = Extract<Change, { kind: 'ramp' }>;

/** Action ids of the running ramp's buttons (Approve and Reject are the usual ones). */
export const RAMP_ACTION = { pause: 'ramp_pause', resume: 'ramp_resume', abort: 'ramp_abort' } as const;

/** `api: ramp Kubernetes 0% → 10% → 25% → 50%` */
export function describeRamp(c: RampChange): string {
  return `${c.service}: ramp Kubernetes ${describeSteps(splitFromWeights(c.from).kubernetesPercent, c.plan.steps)}`;
}

function source(g: Gate): string {
  if (g.prometheus) return `Prometheus \`${escapeText(g.prometheus.query)}\``;
  const cw = g.cloudwatch;
  return `CloudWatch ${escapeText(cw.namespace)} ${escapeText(cw.metric)} ${escapeText(cw.stat)} over ${cw.periodSeconds} s`;
}

function planLines(c: RampChange): string[] {
  const { plan } = c;
  const before = formatWeights(c.from);
  const gates =
    plan.gates.length === 0
      ? [':warning: *Nothing is being watched*: this service has no gates, so each step follows the last on time alone and nothing can stop the ramp but a person.']
      : [
          '*Gates* (sampled during each bake; a breach is that many violating readings in a row):',
          ...plan.gates.map((g) => `• ${escapeText(g.name)}: ${source(g)} must stay ${describeBound(g)} (breach after ${g.failureLimit})`),
        ];
  const onFailure =
    plan.onFailure === 'rollback'
      ? `*On a breach*: back to ${before} (the split before the ramp) at once, and the thread says which gate failed.`
      : '*On a breach*: the ramp stops where it is and waits for Resume or Abort.';
  return [
    `*Now*: ${before}`,
    `*Steps* (Kubernetes share): ${plan.steps.map((s) => `${s}%`).join(', ')}`,
    `*Bake*: ${formatBake(plan.bakeMs)} per step before its gates are judged`,
    ...gates,
    onFailure,
    'No data, or a metrics source that cannot be read, pauses the ramp: it is never taken as healthy.',
  ];
}

/** `✓ 10  ✓ 25  ▶ 50  · 75  · 100` */
export function progressBar(steps: readonly number[], run: RampRun): string {
  const ended = run.phase === 'done' || run.phase === 'aborted' || run.phase === 'rolled-back' || run.phase === 'rolling-back';
  return steps
    .map((s, i) => {
      if (i === run.step && !ended) return `▶ ${s}`;
      if (i < run.applied.length) return `✓ ${s}`;
      return `· ${s}`;
    })
    .join('  ');
}

function readingText(g: Gate, r: GateReading | undefined): string {
  if (r === undefined) return 'no reading yet';
  const mark = r.kind === 'inconclusive' ? ':grey_question:' : violatesBound(g, r.value) ? ':x:' : ':white_check_mark:';
  return `${mark} ${escapeText(describeReading(g, r))}`;
}

export function gateLines(gates: readonly Gate[], run: RampRun): string[] {
  return gates.map((g) => {
    const own = run.readings.filter((r) => r.gate === g.name);
    let streak = 0;
    for (let i = own.length - 1; i >= 0 && own[i]!.kind === 'value' && violatesBound(g, (own[i] as { value: number }).value); i--) streak++;
    const inRow = streak > 0 ? ` (${streak} of ${g.failureLimit} in a row)` : '';
    return `• ${escapeText(g.name)}: ${readingText(g, own.at(-1))}, must stay ${describeBound(g)}${inRow}`;
  });
}

/** The split the ramp left the records in (its last applied step), or the one before it. */
function currentSplit(c: RampChange, run: RampRun): string {
  const last = run.applied.at(-1);
  return formatWeights(last ? weightsForPercent(last.percent) : c.from);
}

function phaseLine(r: ChangeRequest, c: RampChange, run: RampRun, now: number): string {
  const step = `step ${run.step + 1} of ${c.plan.steps.length} (${c.plan.steps[run.step]}%)`;
  switch (run.phase) {
    case 'applying':
      return `:arrows_counterclockwise: Applying ${step}…`;
    case 'baking': {
      const left = bakeLeftMs(run, c.plan, now);
      const next = run.step + 1 < c.plan.steps.length ? 'next step' : 'the end of the ramp';
      return `:hourglass_flowing_sand: Baking ${step}: ${next} in ${formatDuration(left)} if the gates stay healthy (${slackDate(now + left)}).`;
    }
    case 'paused':
      return `:double_vertical_bar: Paused at ${step}: ${run.pausedBy !== undefined ? `paused by ${mention(run.pausedBy)}.` : escapeText(run.because ?? '')}\nResume (an approver) bakes the current step again; Abort returns to ${formatWeights(c.from)}.`;
    case 'rolling-back':
      return `:rewind: Returning to ${formatWeights(c.from)}: ${escapeText(run.because ?? '')}`;
    case 'done':
      return `:white_check_mark: Ramp complete: ${c.service} now serves ${formatWeights(weightsForPercent(c.plan.steps.at(-1)!))}. Approved by ${mention(r.decidedBy ?? '')}.`;
    case 'rolled-back':
      return `:rewind: Rolled back to ${formatWeights(c.from)}: ${escapeText(run.because ?? '')}`;
    case 'aborted':
      return `:stop_sign: Aborted by ${mention(run.stoppedBy?.user ?? '')}; back to ${formatWeights(c.from)}.`;
  }
}

function header(r: ChangeRequest, c: RampChange): Block {
  return section(`*Request #${r.id}* (traffic ramp) from ${mention(r.requestedBy)}\n\`${describeRamp(c)}\``);
}

function ctx(r: ChangeRequest, ...more: string[]): Block {
  return context(...(r.reason ? [`Reason: ${escapeText(r.reason)}`] : []), `Requested ${slackDate(r.requestedAt)}`, ...more);
}

export function renderRampMessage(r: ChangeRequest, c: RampChange, now: number = Date.now()): SlackMessage {
  const base = [header(r, c)];
  const run = r.ramp;
  switch (r.status) {
    case 'requested':
      return {
        text: `Request #${r.id} waits for approval: ${describeRamp(c)}`,
        blocks: [
          ...base,
          section(planLines(c).join('\n')),
          ctx(r, `Expires ${slackDate(r.expiresAt)} if nobody decides.`),
          actions(`request-${r.id}`, button('Approve', 'approve', buttonValue(r), 'primary'), button('Reject', 'reject', buttonValue(r), 'danger')),
        ],
      };
    case 'rejected':
      return { text: `Request #${r.id} rejected; nothing changed.`, blocks: [...base, section(`:no_entry_sign: Rejected by ${mention(r.decidedBy ?? '')}. Nothing changed.`), ctx(r)] };
    case 'cancelled':
      return { text: `Request #${r.id} withdrawn; nothing changed.`, blocks: [...base, section(`:leftwards_arrow_with_hook: Withdrawn by ${mention(r.decidedBy ?? r.requestedBy)}. Nothing changed.`), ctx(r)] };
    case 'expired':
      return { text: `Request #${r.id} expired; nothing changed.`, blocks: [...base, section(':alarm_clock: Expired: nobody decided within the approval time. Nothing changed.'), ctx(r)] };
    default:
      break;
  }
  if (run === undefined) {
    const failed = r.failure ? `:x: Failed before its first step: ${escapeText(r.failure.message)}` : `:hourglass_flowing_sand: Approved by ${mention(r.decidedBy ?? '')}, starting…`;
    return { text: `Request #${r.id}: ${describeRamp(c)}`, blocks: [...base, section(failed), ctx(r)] };
  }
  const line = phaseLine(r, c, run, now);
  const body = [`\`${progressBar(c.plan.steps, run)}\``, `*Split*: ${currentSplit(c, run)}`, line];
  const failure = r.failure && run.phase !== 'rolled-back' && run.phase !== 'aborted' ? [`:x: ${escapeText(r.failure.message)}`] : [];
  const gates = c.plan.gates.length ? [section(['*Gates*', ...gateLines(c.plan.gates, run)].join('\n'))] : [section(':warning: Nothing is being watched: this ramp has no gates.')];
  const open = r.status === 'approved' || r.status === 'applying';
  const buttons = !open || run.phase === 'rolling-back' || isEnded(run)
    ? []
    : [
        actions(
          `ramp-${r.id}`,
          run.phase === 'paused' ? button('Resume', RAMP_ACTION.resume, buttonValue(r), 'primary') : button('Pause', RAMP_ACTION.pause, buttonValue(r)),
          button('Abort', RAMP_ACTION.abort, buttonValue(r), 'danger'),
        ),
      ];
  const ended = r.status === 'applied' ? [actions(`applied-${r.id}`, button('Roll back', 'rollback', buttonValue(r)))] : [];
  return {
    text: `Request #${r.id} (ramp of ${c.service}): ${line.replace(/^:[a-z_]+: /, '')}`,
    blocks: [...base, section([...body, ...failure].join('\n')), ...gates, ctx(r, `Approved by ${mention(r.decidedBy ?? '')}`), ...buttons, ...ended],
  };
}

/** The thread reply after a breach: which gate, its bound and its readings, and what the ramp does. */
export function renderBreach(c: RampChange, problem: GateProblem, run: RampRun): SlackMessage {
  const what = c.plan.onFailure === 'rollback' ? `Returning ${c.service} to ${formatWeights(c.from)} (the split before the ramp).` : 'The ramp is paused where it is: Resume or Abort.';
  const text = `:rotating_light: Gate breached at step ${run.step + 1} (${c.plan.steps[run.step]}%): ${escapeText(problem.reason)}.\n${what}`;
  return { text, blocks: [section(text)] };
}

/** The thread reply for a ramp's news; undefined when the message alone says it. */
export function renderRampNews(r: ChangeRequest, news: RampNews): SlackMessage | undefined {
  const c = r.change;
  const run = r.ramp;
  if (c.kind !== 'ramp' || run === undefined) return undefined;
  switch (news.kind) {
    case 'breach':
      return renderBreach(c, news.problem, run);
    case 'paused': {
      const text = `:double_vertical_bar: Ramp paused at step ${run.step + 1} (${c.plan.steps[run.step]}%): ${escapeText(news.because)}\nResume (an approver) or Abort (back to ${formatWeights(c.from)}).`;
      return { text, blocks: [section(text)] };
    }
    case 'rollback-retrying': {
      const text = `:warning: Could not return ${c.service} to ${formatWeights(c.from)} yet: ${escapeText(news.because)}\nIt is tried again with backoff, then at every sweep, and the ramp stays open meanwhile. Check \`/strangle status\`.`;
      return { text, blocks: [section(text)] };
    }
    case 'ended': {
      const steps = run.applied.map((a) => `${a.percent}% (#${a.requestId})`).join(', ');
      const text =
        run.phase === 'done'
          ? `:white_check_mark: Ramp complete: ${c.service} now serves ${currentSplit(c, run)}. Steps applied: ${steps}.`
          : `:rewind: ${c.service} is back at ${formatWeights(c.from)} (${run.phase === 'aborted' ? 'aborted' : 'rolled back'}). Steps applied before: ${steps || 'none'}.`;
      return { text, blocks: [section(text)] };
    }
  }
}

/** Under a service in `/strangle status`: where its open ramp stands. */
export function rampStatusLine(r: ChangeRequest, now: number = Date.now()): string | undefined {
  const c = r.change;
  const run = r.ramp;
  if (c.kind !== 'ramp' || run === undefined) return undefined;
  const line = phaseLine(r, c, run, now).replace(/\n[\s\S]*$/, '');
  return `Ramp #${r.id}: \`${progressBar(c.plan.steps, run)}\` ${line}${appliedSteps(run)}`;
}

/** In the history: the steps a ramp applied, each with its own request. */
export function rampHistoryNote(r: ChangeRequest): string {
  if (r.rampOf !== undefined) return ` (${r.rollbackOf !== undefined ? 'return' : 'step'} of ramp #${r.rampOf})`;
  return r.change.kind === 'ramp' && r.ramp ? appliedSteps(r.ramp) : '';
}

function appliedSteps(run: RampRun): string {
  return run.applied.length ? ` · steps applied: ${run.applied.map((a) => `${a.percent}% (#${a.requestId})`).join(', ')}` : '';
}
