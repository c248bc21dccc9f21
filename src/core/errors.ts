/**
 * Typed domain errors. Each carries the sentence the person reading Slack or stderr will see,
 * and callers branch on `code`, never on message text.
 */
export type ErrorCode =
  | 'BAD_COMMAND'
  | 'UNKNOWN_SERVICE'
  | 'UNKNOWN_CRON_JOB'
  | 'STEP_TOO_LARGE'
  | 'NOT_A_REQUESTER'
  | 'NOT_AN_APPROVER'
  | 'SELF_APPROVAL'
  | 'REQUEST_OPEN'
  | 'REQUEST_NOT_FOUND'
  | 'REQUEST_CLOSED'
  | 'NOTHING_TO_ROLL_BACK'
  | 'NO_CHANGE'
  | 'STALE_CHANGE'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'THROTTLED'
  | 'UNREACHABLE'
  | 'INVALID_RECORDS'
  | 'VERIFY_FAILED'
  | 'CONFIG_INVALID'
  | 'NOT_THE_REQUESTER'
  | 'SLACK_FAILED'
  | 'STALE_BUTTON'
  | 'BAD_DURATION'
  | 'RAMP_REFUSED';

export class StranglerError extends Error {
  readonly code: ErrorCode;
  /** A next step for the reader ("largest allowed: 35"), shown under the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** The command text does not parse; the message names the problem, the hint is the usage line. */
export class BadCommand extends StranglerError {
  constructor(message: string, usage: string) {
    super('BAD_COMMAND', message, { hint: usage });
  }
}

export class UnknownService extends StranglerError {
  constructor(service: string, known: readonly string[]) {
    super('UNKNOWN_SERVICE', `There is no service called \`${service}\`.`, {
      hint: known.length ? `Known services: ${known.join(', ')}.` : 'No services are configured yet.',
    });
  }
}

export class UnknownCronJob extends StranglerError {
  constructor(job: string, known: readonly string[]) {
    super('UNKNOWN_CRON_JOB', `There is no cron job called \`${job}\`.`, {
      hint: known.length ? `Known cron jobs: ${known.join(', ')}.` : 'No cron jobs are configured yet.',
    });
  }
}

export class StepTooLarge extends StranglerError {
  readonly largestAllowed: number;
  constructor(service: string, from: number, to: number, maxStep: number, largestAllowed: number) {
    super(
      'STEP_TOO_LARGE',
      `Moving \`${service}\` from ${from}% to ${to}% on Kubernetes is a step of ${Math.abs(to - from)} points; the limit for this service is ${maxStep}.`,
      { hint: `Largest allowed: ${largestAllowed}. Move in steps, e.g. \`/strangle ${service} ${largestAllowed}\`.` },
    );
    this.largestAllowed = largestAllowed;
  }
}

export class NotARequester extends StranglerError {
  constructor() {
    super('NOT_A_REQUESTER', 'You are not allowed to request changes.', {
      hint: 'Ask someone listed in `slack.requesters` to make the request.',
    });
  }
}

export class NotAnApprover extends StranglerError {
  constructor() {
    super('NOT_AN_APPROVER', 'You are not an approver, so this click changed nothing.', {
      hint: 'Ask someone listed in `slack.approvers` to decide.',
    });
  }
}

export class SelfApproval extends StranglerError {
  constructor() {
    super('SELF_APPROVAL', 'You asked for this change, so you cannot approve it yourself: four eyes.', {
      hint: 'Ask another approver to approve it.',
    });
  }
}

export class NotTheRequester extends StranglerError {
  constructor(id: number) {
    super('NOT_THE_REQUESTER', `Only the requester of #${id} can withdraw it.`, {
      hint: 'An approver can click Reject on the approval message instead.',
    });
  }
}

/** Slack refused a message the flow depends on (the approval message). */
export class SlackFailed extends StranglerError {
  constructor(message: string, hint: string) {
    super('SLACK_FAILED', message, { hint });
  }
}

/**
 * A button on a message that is not the request's own approval message (e.g. Redis lost its
 * data and request numbers started again): acting on it could approve a different change.
 */
export class StaleButton extends StranglerError {
  /** `id` is undefined when the button's value names no request at all. */
  constructor(id: number | undefined) {
    const which = id === undefined ? 'it is not the approval message of any request' : `it is not the approval message of request #${id}`;
    super('STALE_BUTTON', `This message is out of date: ${which}, so the click changed nothing.`, {
      hint: 'Use the buttons on the newest message, or see `/strangle history`.',
    });
  }
}

export class RequestOpen extends StranglerError {
  readonly openRequestId: number;
  constructor(target: string, openRequestId: number) {
    super('REQUEST_OPEN', `\`${target}\` already has an open request: #${openRequestId}.`, {
      hint: `Wait for it to be decided, or withdraw it with \`/strangle cancel ${openRequestId}\`.`,
    });
    this.openRequestId = openRequestId;
  }
}

export class RequestNotFound extends StranglerError {
  constructor(id: number | string) {
    super('REQUEST_NOT_FOUND', `There is no request #${id}.`, {
      hint: 'See `/strangle history` for recent requests.',
    });
  }
}

export class RequestClosed extends StranglerError {
  constructor(id: number, status: string) {
    super('REQUEST_CLOSED', `Request #${id} is already ${status}; nothing changed.`);
  }
}

export class NothingToRollBack extends StranglerError {
  constructor(target: string) {
    super('NOTHING_TO_ROLL_BACK', `\`${target}\` has no applied change to roll back.`, {
      hint: `Request a change directly instead, e.g. \`/strangle ${target} 0\`.`,
    });
  }
}

export class CannotRollBack extends StranglerError {
  constructor(id: number, why: string, hint: string) {
    super('NOTHING_TO_ROLL_BACK', `Request #${id} cannot be rolled back: ${why}.`, { hint });
  }
}

export class NoChange extends StranglerError {
  constructor(target: string, what: string) {
    super('NO_CHANGE', `\`${target}\` is already at ${what}; there is nothing to change.`);
  }
}

/** The outside state no longer matches what the request was made against: nothing was applied. */
export class StaleChange extends StranglerError {
  constructor(message: string) {
    super('STALE_CHANGE', message, { hint: 'Check `/strangle status` and make a new request if still needed.' });
  }
}

export class NotFound extends StranglerError {
  constructor(message: string, hint?: string) {
    super('NOT_FOUND', message, hint === undefined ? {} : { hint });
  }
}

export class Forbidden extends StranglerError {
  constructor(message: string, hint?: string) {
    super('FORBIDDEN', message, hint === undefined ? {} : { hint });
  }
}

/** Retryable: the outside API asked us to slow down and retries ran out. */
export class Throttled extends StranglerError {
  constructor(message: string, cause?: unknown) {
    super('THROTTLED', message, { hint: 'Try again in a minute.', cause });
  }
}

/** Retryable: could not talk to the outside system at all. */
export class Unreachable extends StranglerError {
  constructor(message: string, cause?: unknown) {
    super('UNREACHABLE', message, { hint: 'Try again shortly; if it persists, check the bot can reach it.', cause });
  }
}

/** The records found are not a weighted pair the bot can manage (missing, not weighted, wrong type). */
export class InvalidRecords extends StranglerError {
  constructor(message: string, hint?: string) {
    super('INVALID_RECORDS', message, hint === undefined ? {} : { hint });
  }
}

export class VerifyFailed extends StranglerError {
  constructor(message: string) {
    super('VERIFY_FAILED', message, { hint: 'Check `/strangle status`; roll back if the split is not what you expect.' });
  }
}

export class ConfigInvalid extends StranglerError {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super('CONFIG_INVALID', `${source} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Errors worth retrying later; everything else is final. */
export function isRetryable(err: unknown): boolean {
  return err instanceof Throttled || err instanceof Unreachable;
}

/** A duration such as a ramp's bake that is not a number with an s, m or h unit ("30s", "2m", "1h30m"). */
export class BadDuration extends StranglerError {
  readonly input: string;
  constructor(input: string, why: string) {
    super('BAD_DURATION', `"${input}" is not a duration: ${why}.`, { hint: 'Write a whole number with s, m or h, e.g. 30s, 2m, 15m, 1h or 1h30m.' });
    this.input = input;
  }
}

/** A ramp plan that cannot run as given (steps, bake, gates): nothing was requested. */
export class RampRefused extends StranglerError {
  constructor(message: string, hint?: string) {
    super('RAMP_REFUSED', message, hint === undefined ? {} : { hint });
  }
}
