/**
 * The `/strangle` grammar. Pure: takes the text Slack sent and the names the config knows,
 * returns a typed command or throws BadCommand / UnknownService / UnknownCronJob, whose
 * messages name the problem and whose hint is the usage line.
 */
import { bakeOutOfBounds } from './bake-bounds.js';
import { parseDuration } from './duration.js';
import { BadCommand, BadDuration, UnknownCronJob, UnknownService } from './errors.js';

export type Placement = 'kubernetes' | 'ec2';

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'status'; readonly target?: string }
  | { readonly kind: 'history'; readonly target?: string }
  | { readonly kind: 'cancel'; readonly requestId: number }
  | { readonly kind: 'weight'; readonly service: string; readonly percent: number; readonly reason: string }
  | { readonly kind: 'rollback'; readonly service: string; readonly reason: string }
  | { readonly kind: 'cron-list' }
  | { readonly kind: 'cron-move'; readonly job: string; readonly to: Placement; readonly reason: string }
  | { readonly kind: 'drift' }
  | { readonly kind: 'report' }
  | {
      readonly kind: 'ramp';
      readonly service: string;
      /** Inline steps (Kubernetes shares); absent: the service's configured ramp. */
      readonly steps?: readonly number[];
      /** The `every …` bake as typed; absent: the configured bake. */
      readonly bake?: string;
      readonly reason: string;
    };

export interface KnownNames {
  readonly services: readonly string[];
  readonly cronJobs: readonly string[];
}

export const USAGE = [
  '`/strangle <service> <0-100> [reason]`: send that % of traffic to Kubernetes, the rest to EC2',
  '`/strangle <service> rollback [reason]`: put back the split before the last applied change',
  '`/strangle status [service]` · `/strangle history [service]` · `/strangle cancel <request>`',
  '`/strangle cron` · `/strangle cron <job> k8s|ec2 [reason]` · `/strangle drift` · `/strangle help`',
  '`/strangle report`: post a chart of each service\'s Kubernetes share over time in this channel',
  '`/strangle <service> ramp [steps… every <bake>] [reason]`: step traffic to Kubernetes, judged by the service\'s gates',
].join('\n');

const WEIGHT_USAGE = 'Usage: `/strangle <service> <0-100> [reason]`, e.g. `/strangle api 30 canary looks good`';
const CRON_USAGE = 'Usage: `/strangle cron` to list jobs, `/strangle cron <job> k8s|ec2 [reason]` to move one';
const MAX_REASON = 500;
const MAX_SHOWN = 40;

/**
 * Quotes a piece of user input in an error message: bounded, cut on whole characters, and
 * without anything that could act as markup or reorder text (`<!channel>`, links, bidi marks).
 */
function shown(word: string): string {
  const chars = Array.from(word.replace(/[\u0000-\u001f\u007f`<>&\u202a-\u202e\u2066-\u2069]/g, ''));
  const clean = chars.length > MAX_SHOWN ? `${chars.slice(0, MAX_SHOWN).join('')}…` : chars.join('');
  return clean === '' ? '(unprintable)' : clean;
}

function lookup(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  return known.find((k) => k.toLowerCase() === lower);
}

function reasonFrom(words: readonly string[]): string {
  const reason = words.join(' ').trim();
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
}

function parsePercent(word: string, service: string): number {
  const m = /^(\d{1,3})%?$/.exec(word);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 100) {
    throw new BadCommand(
      `\`${shown(word)}\` is not a weight: give the Kubernetes share of \`${service}\` as a whole number from 0 to 100.`,
      WEIGHT_USAGE,
    );
  }
  return n;
}

function parseRequestId(word: string | undefined): number {
  const m = word === undefined ? null : /^#?(\d{1,9})$/.exec(word);
  if (!m) {
    throw new BadCommand(
      word === undefined ? 'Say which request to cancel.' : `\`${shown(word)}\` is not a request number.`,
      'Usage: `/strangle cancel <request>`, e.g. `/strangle cancel 12`',
    );
  }
  return Number(m[1]);
}

function parsePlacement(word: string | undefined): Placement | undefined {
  switch (word?.toLowerCase()) {
    case 'k8s':
    case 'kubernetes':
      return 'kubernetes';
    case 'ec2':
      return 'ec2';
    default:
      return undefined;
  }
}

function parseCron(args: readonly string[], known: KnownNames): Command {
  const [jobWord, placeWord, ...rest] = args;
  if (jobWord === undefined) return { kind: 'cron-list' };
  const job = lookup(jobWord, known.cronJobs);
  if (job === undefined) throw new UnknownCronJob(shown(jobWord), known.cronJobs);
  const to = parsePlacement(placeWord);
  if (to === undefined) {
    throw new BadCommand(
      placeWord === undefined
        ? `Say where \`${job}\` should run: \`k8s\` or \`ec2\`.`
        : `\`${shown(placeWord)}\` is not a place to run \`${job}\`: use \`k8s\` or \`ec2\`.`,
      CRON_USAGE,
    );
  }
  return { kind: 'cron-move', job, to, reason: reasonFrom(rest) };
}

function optionalTarget(word: string | undefined, known: KnownNames): string | undefined {
  if (word === undefined) return undefined;
  const found = lookup(word, known.services) ?? lookup(word, known.cronJobs);
  if (found === undefined) throw new UnknownService(shown(word), known.services);
  return found;
}

export function parseCommand(text: string, known: KnownNames): Command {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  const [first, ...args] = words;
  if (first === undefined) {
    throw new BadCommand('The command is empty: say what to do.', USAGE);
  }
  switch (first.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'status': {
      const target = optionalTarget(args[0], known);
      return target === undefined ? { kind: 'status' } : { kind: 'status', target };
    }
    case 'history': {
      const target = optionalTarget(args[0], known);
      return target === undefined ? { kind: 'history' } : { kind: 'history', target };
    }
    case 'cancel':
      return { kind: 'cancel', requestId: parseRequestId(args[0]) };
    case 'cron':
      return parseCron(args, known);
    case 'drift':
      return { kind: 'drift' };
    case 'report':
      return { kind: 'report' };
    default:
      break;
  }

  const service = lookup(first, known.services);
  const [second, ...rest] = args;
  if (service === undefined) {
    // "/strangle apu 30" is a typo'd service; "/strangle frobnicate" is an unknown subcommand.
    if (second !== undefined && (/^\d/.test(second) || second.toLowerCase() === 'rollback' || second.toLowerCase() === 'ramp')) {
      throw new UnknownService(shown(first), known.services);
    }
    throw new BadCommand(`\`${shown(first)}\` is neither a command nor a known service.`, USAGE);
  }
  if (second === undefined) {
    throw new BadCommand(`Say what Kubernetes share \`${service}\` should get.`, WEIGHT_USAGE);
  }
  if (second.toLowerCase() === 'rollback') {
    return { kind: 'rollback', service, reason: reasonFrom(rest) };
  }
  if (second.toLowerCase() === 'ramp') return parseRamp(service, rest);
  return { kind: 'weight', service, percent: parsePercent(second, service), reason: reasonFrom(rest) };
}

const RAMP_USAGE = 'Usage: `/strangle <service> ramp [reason]` for the configured plan, or `/strangle <service> ramp 20 40 60 every 10m [reason]`';
const MAX_RAMP_STEPS = 20;

/** `ramp`, `ramp 20 40 60`, `ramp 20 40 60 every 10m`, `ramp every 2m`, each optionally followed by a reason. */
function parseRamp(service: string, words: readonly string[]): Command {
  const steps: number[] = [];
  let i = 0;
  for (; i < words.length && /^\d/.test(words[i]!); i++) {
    const m = /^(\d{1,3})%?$/.exec(words[i]!);
    const n = m ? Number(m[1]) : Number.NaN;
    if (!(n >= 0 && n <= 100)) {
      throw new BadCommand(`\`${shown(words[i]!)}\` is not a step: each step is the Kubernetes share of \`${service}\` after it, a whole number from 0 to 100.`, RAMP_USAGE);
    }
    steps.push(n);
  }
  if (steps.length > MAX_RAMP_STEPS) throw new BadCommand(`A ramp has at most ${MAX_RAMP_STEPS} steps; this one has ${steps.length}.`, RAMP_USAGE);
  let bake: string | undefined;
  if (words[i]?.toLowerCase() === 'every') {
    bake = words[i + 1];
    if (bake === undefined) throw new BadCommand('Say how long each step bakes after `every`, e.g. `every 10m`.', RAMP_USAGE);
    let bakeMs: number;
    try {
      bakeMs = parseDuration(bake);
    } catch (err) {
      if (!(err instanceof BadDuration)) throw err;
      throw new BadCommand(`\`${shown(bake)}\` is not a bake time: use a whole number with s, m or h, like \`30s\`, \`10m\` or \`1h30m\`.`, RAMP_USAGE);
    }
    const outOfBounds = bakeOutOfBounds(bakeMs);
    if (outOfBounds !== undefined) throw new BadCommand(`\`every ${shown(bake)}\` is refused: ${outOfBounds}, the same bounds as \`ramp.bake\` in the config.`, RAMP_USAGE);
    i += 2;
  }
  return { kind: 'ramp', service, ...(steps.length ? { steps } : {}), ...(bake !== undefined ? { bake } : {}), reason: reasonFrom(words.slice(i)) };
}
