import { describe, expect, it } from 'vitest';
import { type Command, type KnownNames, USAGE, parseCommand } from '../../src/core/command.js';
import { BadCommand, StranglerError, UnknownCronJob, UnknownService } from '../../src/core/errors.js';

const known: KnownNames = { services: ['api', 'web', 'Pay'], cronJobs: ['nightly-report', 'cleanup'] };

const parse = (text: string): Command => parseCommand(text, known);

/** Runs the parser expecting a refusal and returns the typed error for closer inspection. */
function refusal(text: string, names: KnownNames = known): StranglerError {
  try {
    parseCommand(text, names);
  } catch (err) {
    expect(err).toBeInstanceOf(StranglerError);
    return err as StranglerError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseCommand: subcommands', () => {
  it.each(['help', 'HELP', 'Help', '  help  '])('%j asks for help', (text) => {
    expect(parse(text)).toEqual({ kind: 'help' });
  });

  it('ignores words after help and drift rather than refusing them', () => {
    expect(parse('help me')).toEqual({ kind: 'help' });
    expect(parse('drift now')).toEqual({ kind: 'drift' });
  });

  it.each(['report', 'REPORT', 'report now'])('%j asks for the progress report', (text) => {
    expect(parse(text)).toEqual({ kind: 'report' });
  });

  it.each(['drift', 'DRIFT'])('%j asks for the drift report', (text) => {
    expect(parse(text)).toEqual({ kind: 'drift' });
  });

  it('status without a target has no target key at all', () => {
    const cmd = parse('status');
    expect(cmd).toEqual({ kind: 'status' });
    expect('target' in cmd).toBe(false);
  });

  it('status of a service returns the configured spelling of its name', () => {
    expect(parse('status API')).toEqual({ kind: 'status', target: 'api' });
    expect(parse('Status pay')).toEqual({ kind: 'status', target: 'Pay' });
  });

  it('status also accepts a cron job as its target', () => {
    expect(parse('status Nightly-Report')).toEqual({ kind: 'status', target: 'nightly-report' });
  });

  it('status of an unknown name is an UnknownService listing the known services', () => {
    const err = refusal('status nope');
    expect(err).toBeInstanceOf(UnknownService);
    expect(err.message).toBe('There is no service called `nope`.');
    expect(err.hint).toBe('Known services: api, web, Pay.');
  });

  it('history with and without a target', () => {
    expect(parse('history')).toEqual({ kind: 'history' });
    expect(parse('HISTORY web')).toEqual({ kind: 'history', target: 'web' });
    expect(parse('history cleanup')).toEqual({ kind: 'history', target: 'cleanup' });
    expect(refusal('history wbe')).toBeInstanceOf(UnknownService);
  });

  it.each([
    ['cancel 12', 12],
    ['cancel #12', 12],
    ['CANCEL #7', 7],
    ['cancel 123456789', 123456789],
  ])('%j withdraws request %i', (text, id) => {
    expect(parse(text)).toEqual({ kind: 'cancel', requestId: id });
  });

  it('cancel without a request number says which is missing', () => {
    const err = refusal('cancel');
    expect(err).toBeInstanceOf(BadCommand);
    expect(err.message).toBe('Say which request to cancel.');
    expect(err.hint).toContain('/strangle cancel <request>');
  });

  it.each(['abc', '#', '##12', '12a', '-3', '1.5', '1234567890'])('cancel %j is not a request number', (word) => {
    const err = refusal(`cancel ${word}`);
    expect(err).toBeInstanceOf(BadCommand);
    expect(err.message).toBe(`\`${word}\` is not a request number.`);
  });
});

describe('parseCommand: weight changes', () => {
  it('reads service, percent and an empty reason', () => {
    expect(parse('api 30')).toEqual({ kind: 'weight', service: 'api', percent: 30, reason: '' });
  });

  it('accepts a trailing percent sign', () => {
    expect(parse('api 30%')).toEqual({ kind: 'weight', service: 'api', percent: 30, reason: '' });
  });

  it('matches the service name regardless of case and returns the configured spelling', () => {
    expect(parse('API 10')).toMatchObject({ service: 'api' });
    expect(parse('PAY 10')).toMatchObject({ service: 'Pay' });
  });

  it.each([0, 1, 50, 99, 100])('accepts the boundary weight %i', (n) => {
    expect(parse(`web ${n}`)).toMatchObject({ kind: 'weight', percent: n });
  });

  it('keeps the rest of the line as the reason, with runs of whitespace collapsed', () => {
    expect(parse('api 30   canary \t looks   good ')).toEqual({
      kind: 'weight',
      service: 'api',
      percent: 30,
      reason: 'canary looks good',
    });
  });

  it('cuts a reason over 500 characters and marks the cut', () => {
    const cmd = parse(`api 30 ${'x'.repeat(600)}`);
    expect(cmd.kind).toBe('weight');
    const reason = (cmd as Extract<Command, { kind: 'weight' }>).reason;
    expect(reason).toBe(`${'x'.repeat(500)}…`);
  });

  it('keeps a reason of exactly 500 characters whole', () => {
    const cmd = parse(`api 30 ${'y'.repeat(500)}`) as Extract<Command, { kind: 'weight' }>;
    expect(cmd.reason).toBe('y'.repeat(500));
  });

  it.each(['101', '200', '999', '1000', '-5', '12.5', 'thirty', '30%%', '%', '1e2', '0x10'])(
    'refuses %j as a weight, naming the service and the range',
    (word) => {
      const err = refusal(`api ${word}`);
      expect(err).toBeInstanceOf(BadCommand);
      expect(err.message).toBe(`\`${word}\` is not a weight: give the Kubernetes share of \`api\` as a whole number from 0 to 100.`);
      expect(err.hint).toContain('/strangle <service> <0-100> [reason]');
    },
  );

  it('a service with no weight asks for one', () => {
    const err = refusal('web');
    expect(err).toBeInstanceOf(BadCommand);
    expect(err.message).toBe('Say what Kubernetes share `web` should get.');
    expect(err.hint).toMatch(/^Usage: /);
  });
});

describe('parseCommand: rollback', () => {
  it('reads a rollback with and without a reason', () => {
    expect(parse('api rollback')).toEqual({ kind: 'rollback', service: 'api', reason: '' });
    expect(parse('Web ROLLBACK error rate up')).toEqual({ kind: 'rollback', service: 'web', reason: 'error rate up' });
  });
});

describe('parseCommand: unknown words', () => {
  it.each(['apu 30', 'apu 30%', 'apu 5x', 'apu rollback', 'apu ROLLBACK because'])(
    '%j looks like a typo of a service: UnknownService listing the known ones',
    (text) => {
      const err = refusal(text);
      expect(err).toBeInstanceOf(UnknownService);
      expect(err.code).toBe('UNKNOWN_SERVICE');
      expect(err.message).toBe('There is no service called `apu`.');
      expect(err.hint).toBe('Known services: api, web, Pay.');
    },
  );

  it('an unknown service with no services configured says so instead of listing nothing', () => {
    const err = refusal('api 30', { services: [], cronJobs: [] });
    expect(err).toBeInstanceOf(UnknownService);
    expect(err.hint).toBe('No services are configured yet.');
  });

  it.each(['frobnicate', 'frobnicate now', 'deploy api'])('%j is an unknown subcommand: BadCommand with the usage', (text) => {
    const err = refusal(text);
    expect(err).toBeInstanceOf(BadCommand);
    expect(err.code).toBe('BAD_COMMAND');
    expect(err.message).toBe(`\`${text.split(' ')[0]}\` is neither a command nor a known service.`);
    expect(err.hint).toBe(USAGE);
  });

  it.each(['', '   ', '\t\n'])('empty input %j asks what to do, with the usage', (text) => {
    const err = refusal(text);
    expect(err).toBeInstanceOf(BadCommand);
    expect(err.message).toBe('The command is empty: say what to do.');
    expect(err.hint).toBe(USAGE);
  });

  it('quotes at most 40 characters of an unknown word and strips backticks and control characters', () => {
    const err = refusal(`${'a'.repeat(100)} 30`);
    expect(err.message).toBe(`There is no service called \`${'a'.repeat(40)}…\`.`);
    // A backtick in user text would close our inline code early and let the rest render as markup.
    expect(refusal('a`b\u0007c 30').message).toBe('There is no service called `abc`.');
  });
});

describe('parseCommand: cron', () => {
  it('cron alone lists the jobs', () => {
    expect(parse('cron')).toEqual({ kind: 'cron-list' });
    expect(parse('CRON')).toEqual({ kind: 'cron-list' });
  });

  it.each([
    ['cron nightly-report k8s', 'kubernetes'],
    ['cron nightly-report K8S', 'kubernetes'],
    ['cron nightly-report kubernetes', 'kubernetes'],
    ['cron nightly-report Kubernetes', 'kubernetes'],
    ['cron nightly-report ec2', 'ec2'],
    ['cron NIGHTLY-REPORT EC2', 'ec2'],
  ])('%j moves the job to %s', (text, to) => {
    expect(parse(text)).toEqual({ kind: 'cron-move', job: 'nightly-report', to, reason: '' });
  });

  it('keeps the reason of a cron move', () => {
    expect(parse('cron cleanup k8s  runs fine in staging')).toEqual({
      kind: 'cron-move',
      job: 'cleanup',
      to: 'kubernetes',
      reason: 'runs fine in staging',
    });
  });

  it('an unknown job is an UnknownCronJob listing the known jobs', () => {
    const err = refusal('cron nightly k8s');
    expect(err).toBeInstanceOf(UnknownCronJob);
    expect(err.code).toBe('UNKNOWN_CRON_JOB');
    expect(err.message).toBe('There is no cron job called `nightly`.');
    expect(err.hint).toBe('Known cron jobs: nightly-report, cleanup.');
  });

  it('an unknown job with no jobs configured says none are configured', () => {
    const err = refusal('cron x k8s', { services: ['api'], cronJobs: [] });
    expect(err.hint).toBe('No cron jobs are configured yet.');
  });

  it('a job without a placement asks where it should run', () => {
    const err = refusal('cron cleanup');
    expect(err).toBeInstanceOf(BadCommand);
    expect(err.message).toBe('Say where `cleanup` should run: `k8s` or `ec2`.');
    expect(err.hint).toContain('/strangle cron <job> k8s|ec2 [reason]');
  });

  it.each(['gke', 'k8', 'aws', 'both'])('refuses the placement %j', (place) => {
    const err = refusal(`cron cleanup ${place}`);
    expect(err).toBeInstanceOf(BadCommand);
    expect(err.message).toBe(`\`${place}\` is not a place to run \`cleanup\`: use \`k8s\` or \`ec2\`.`);
  });
});

describe('parseCommand: names that collide with subcommands', () => {
  it('reads the first word as a subcommand before trying it as a service name', () => {
    const names: KnownNames = { services: ['drift', 'api'], cronJobs: [] };
    expect(parseCommand('drift 30', names)).toEqual({ kind: 'drift' });
    expect(parseCommand('status drift', names)).toEqual({ kind: 'status', target: 'drift' });
  });
});
