/**
 * Polls the bot's versions endpoint until the side(s) run the wanted version. Exit codes: 0 done,
 * 1 timed out, 2 refused (unknown service, bad token, API off, wrong URL). Network trouble and
 * 5xx are not refusals: a bot restarting during a deploy must not fail the pipeline, so they are
 * retried until the timeout. A 429 is waited out for as long as its Retry-After says.
 */
import type { SideAnswer, VersionsAnswer } from '../core/versions-answer.js';
import { sameVersion } from '../core/version-syntax.js';
import type { Side, Target, WaitOptions } from './args.js';

export interface WaitDeps {
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Progress and refusals (stderr). */
  readonly err: (line: string) => void;
  /** The final word on success (stdout). */
  readonly out: (line: string) => void;
}

const SIDES = { kubernetes: 'Kubernetes', ec2: 'EC2' } as const;

/** `20 min`, `90 s`, `1 h`: how people wrote the timeout, not a count of seconds. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

function sidesOf(side: Side): Array<'kubernetes' | 'ec2'> {
  return side === 'both' ? ['kubernetes', 'ec2'] : [side];
}

export function runs(a: SideAnswer | null, version: string): boolean {
  return a !== null && a.version !== null && sameVersion(version, a.version) && !('rollingTo' in a && a.rollingTo);
}

function describeSide(name: string, a: SideAnswer | null): string {
  if (a === null) return `${name}: not checked yet`;
  if (a.version === null) return `${name}: unknown (${a.error})`;
  const rolling = 'rollingTo' in a && a.rollingTo ? `, rolling out ${a.rollingTo}` : '';
  return `${name} runs ${a.version} since ${a.since}${rolling}`;
}

export function describeAnswer(a: VersionsAnswer): string {
  const checked = a.checkedAt ? ` (checked ${a.checkedAt})` : '';
  return `${describeSide(SIDES.kubernetes, a.kubernetes)}; ${describeSide(SIDES.ec2, a.ec2)}${checked}`;
}

type Poll =
  | { readonly kind: 'answer'; readonly answer: VersionsAnswer }
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'wait'; readonly seconds: number; readonly message: string }
  | { readonly kind: 'trouble'; readonly message: string };

async function errorMessage(res: Response): Promise<string | undefined> {
  const body = await res.text().catch(() => '');
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

async function poll(target: Target, deps: WaitDeps, timeoutMs: number): Promise<Poll> {
  let res: Response;
  try {
    res = await deps.fetch(target.url, {
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' },
      // A redirect is refused rather than followed: the token must only go where STRANGLER_URL says.
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1000, timeoutMs)),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? 'no answer in time' : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { kind: 'trouble', message: `cannot reach ${target.url.origin}: ${why}` };
  }
  const where = `${target.url.origin}${target.url.pathname}`;
  if (res.status === 200) {
    const body = (await res.json().catch(() => undefined)) as Partial<VersionsAnswer> | undefined;
    // Something else answered (a login page, another service): waiting would not make it strangler.
    if (typeof body !== 'object' || body === null || !('kubernetes' in body) || !('ec2' in body) || typeof body.drift !== 'object') {
      return { kind: 'refused', message: `${where} answered 200 but not with strangler's versions JSON: is STRANGLER_URL the strangler bot?` };
    }
    return { kind: 'answer', answer: body as VersionsAnswer };
  }
  const message = await errorMessage(res);
  if (res.status === 401 || res.status === 403) return { kind: 'refused', message: `STRANGLER_API_TOKEN was refused by ${target.url.origin} (${res.status}): ${message ?? 'not authorised'}` };
  if (res.status === 404) return { kind: 'refused', message: message ?? `${where} does not exist (404): is STRANGLER_URL the strangler bot?` };
  if (res.status === 429) {
    const seconds = Number(res.headers.get('retry-after'));
    return { kind: 'wait', seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : 60, message: message ?? 'rate limited (429)' };
  }
  if (res.status >= 300 && res.status < 400) return { kind: 'refused', message: `${where} redirects (${res.status}) to ${res.headers.get('location') ?? 'elsewhere'}: set STRANGLER_URL to where it points` };
  if (res.status >= 500) return { kind: 'trouble', message: `${where} answered ${res.status}${message ? `: ${message}` : ''}` };
  return { kind: 'refused', message: `${where} answered ${res.status}${message ? `: ${message}` : ''}` };
}

export async function waitForVersion(o: WaitOptions, target: Target, deps: WaitDeps): Promise<0 | 1 | 2> {
  const deadline = deps.now() + o.timeoutMs;
  const sides = sidesOf(o.side);
  const where = o.side === 'both' ? 'Kubernetes and EC2' : SIDES[o.side];
  let last: VersionsAnswer | undefined;
  let lastSaid = '';
  let trouble: string | undefined;
  const say = (line: string) => {
    // Only changes: a twenty-minute wait should not fill the CI log with the same line.
    if (line !== lastSaid) deps.err(line);
    lastSaid = line;
  };
  deps.err(`waiting up to ${humanDuration(o.timeoutMs)} for ${o.service} to run ${o.version} on ${where}`);
  for (;;) {
    const p = await poll(target, deps, Math.min(15_000, deadline - deps.now()));
    let waitMs = o.intervalMs;
    if (p.kind === 'refused') {
      deps.err(`strangler wait-for-version: ${p.message}`);
      return 2;
    }
    if (p.kind === 'answer') {
      last = p.answer;
      trouble = undefined;
      if (sides.every((s) => runs(p.answer[s], o.version))) {
        deps.out(`${o.service} runs ${o.version} on ${where}: ${describeAnswer(p.answer)}`);
        return 0;
      }
      say(`${o.service}: ${describeAnswer(p.answer)}`);
    } else if (p.kind === 'wait') {
      waitMs = Math.max(waitMs, p.seconds * 1000);
      say(`${p.message} (waiting ${p.seconds} s)`);
    } else {
      trouble = p.message;
      say(`${p.message} (will retry)`);
    }
    const left = deadline - deps.now();
    if (left <= 0) break;
    await deps.sleep(Math.min(waitMs, left));
  }
  const running = last ? describeAnswer(last) : `no answer from strangler${trouble ? ` (${trouble})` : ''}`;
  deps.err(`strangler wait-for-version: timed out after ${humanDuration(o.timeoutMs)}: ${o.service} does not run ${o.version} on ${where}. ${running}`);
  return 1;
}
