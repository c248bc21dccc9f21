import { describe, expect, it } from 'vitest';
import { classify, type DriftState, evaluateDrift, withAlert } from '../../src/core/drift.js';
import { renderDriftAlert, renderDriftResolved, statusVersionLine } from '../../src/slack/render-drift.js';

const MIN = 60_000;
const settings = { graceMs: 10 * MIN, remindEveryMs: 240 * MIN };
const v = (version: string, rollingTo?: string) => (rollingTo ? { version, rollingTo } : { version });
const broken = { error: 'http://ec2/version: HTTP 503' };
const T0 = Date.parse('2026-11-25T10:00:00Z');

/** Runs the checks in order, recording Slack coordinates for alerts as the checker would. */
function run(steps: Array<{ at: number; k: ReturnType<typeof v> | typeof broken; e: ReturnType<typeof v> | typeof broken }>) {
  let state: DriftState | undefined;
  const log: string[] = [];
  for (const s of steps) {
    const { next, actions } = evaluateDrift(state, 'api', s.k, s.e, s.at, settings);
    state = next;
    for (const a of actions) {
      log.push(`${(s.at - T0) / MIN}:${a.type}:${a.type === 'resolve' ? `${a.endedKind}->${a.now}` : a.kind}`);
      if (a.type === 'alert') state = withAlert(state, { channel: 'C0ALERTS', ts: `${s.at}` }, s.at);
    }
  }
  return { state: state!, log };
}

describe('drift episodes', () => {
  it('classifies equal versions as in sync, different as drift, unreadable as unknown', () => {
    expect(classify(v('a'), v('a'))).toBe('in-sync');
    expect(classify(v('a'), v('b'))).toBe('drift');
    expect(classify(v('a'), broken)).toBe('unknown');
    expect(classify(broken, broken)).toBe('unknown');
  });

  it('a deploy shorter than the grace period never alerts', () => {
    const { log, state } = run([
      { at: T0, k: v('b'), e: v('a') },
      { at: T0 + 9 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 10 * MIN - 1, k: v('b'), e: v('b') },
    ]);
    expect(log).toEqual([]);
    expect(state.episode).toBeUndefined();
  });

  it('alerts once at the grace period, reminds every interval, resolves in the thread', () => {
    const { log } = run([
      { at: T0, k: v('b'), e: v('a') },
      { at: T0 + 10 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 11 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 249 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 250 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 251 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 490 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 491 * MIN, k: v('b'), e: v('b') },
    ]);
    expect(log).toEqual(['10:alert:drift', '250:remind:drift', '490:remind:drift', '491:resolve:drift->in-sync']);
  });

  it('keeps the episode start across checks, so "since" is when the drift began', () => {
    const { state } = run([
      { at: T0, k: v('b'), e: v('a') },
      { at: T0 + 5 * MIN, k: v('c'), e: v('a') },
    ]);
    expect(state.episode?.since).toBe(T0);
  });

  it('a source turning unreadable during a drift continues it: no second alert for the same trouble', () => {
    const { log, state } = run([
      { at: T0, k: v('b'), e: v('a') },
      { at: T0 + 10 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 12 * MIN, k: v('b'), e: broken },
      { at: T0 + 22 * MIN, k: v('b'), e: broken },
      { at: T0 + 23 * MIN, k: v('b'), e: v('b') },
    ]);
    expect(log).toEqual(['10:alert:drift', '23:resolve:drift->in-sync']);
    expect(state.episode).toBeUndefined();
  });

  it('an unknown episode that turns into a drift ends in its thread and the drift gets its own alert', () => {
    const { log } = run([
      { at: T0, k: v('b'), e: broken },
      { at: T0 + 10 * MIN, k: v('b'), e: broken },
      { at: T0 + 12 * MIN, k: v('b'), e: v('a') },
      { at: T0 + 22 * MIN, k: v('b'), e: v('a') },
    ]);
    expect(log).toEqual(['10:alert:unknown', '12:resolve:unknown->drift', '22:alert:drift']);
  });

  it('an episode that was never alerted ends silently', () => {
    const { log } = run([
      { at: T0, k: v('b'), e: broken },
      { at: T0 + 1 * MIN, k: v('b'), e: v('b') },
    ]);
    expect(log).toEqual([]);
  });
});

describe('drift messages', () => {
  const drifting: DriftState = { service: 'api', checkedAt: T0 + 14 * MIN, kubernetes: v('def456'), ec2: v('abc123'), episode: { kind: 'drift', since: T0 } };

  it('the alert names both versions, since when, and the traffic split', () => {
    const m = renderDriftAlert(drifting, 'Kubernetes 30% · EC2 70%', T0 + 14 * MIN);
    expect(m.text).toContain('*api* runs different versions: Kubernetes `def456` · EC2 `abc123`');
    expect(m.text).toContain('(14 min)');
    expect(m.text).toContain('Traffic now: Kubernetes 30% · EC2 70%.');
  });

  it('an unknown alert says what failed, and escapes it', () => {
    const s: DriftState = { ...drifting, ec2: { error: 'http://x/<!channel>: HTTP 503' }, episode: { kind: 'unknown', since: T0 } };
    const m = renderDriftAlert(s, undefined, T0 + 11 * MIN);
    expect(m.text).toContain('cannot read the running version on EC2: http://x/&lt;!channel&gt;: HTTP 503');
    expect(m.text).not.toContain('<!channel>');
  });

  it('resolution reads "back in sync on <version> after N min"', () => {
    const s: DriftState = { service: 'api', checkedAt: T0 + 14 * MIN, kubernetes: v('abc123'), ec2: v('abc123') };
    const { reply, original } = renderDriftResolved({ type: 'resolve', alert: { channel: 'C', ts: '1' }, endedKind: 'drift', since: T0, now: 'in-sync' }, s, T0 + 14 * MIN);
    expect(reply.text).toBe(':white_check_mark: *api* back in sync on `abc123` after 14 min.');
    expect(original.text).toContain('Back in sync on `abc123`.');
  });

  it('status shows a rollout in progress and when versions were last checked', () => {
    const s: DriftState = { service: 'api', checkedAt: T0, kubernetes: v('abc123', 'def456'), ec2: v('abc123') };
    expect(statusVersionLine(s, T0 + 30_000)).toBe('Versions: Kubernetes `abc123` (rolling out `def456`) · EC2 `abc123`, in sync (checked 30 s ago)');
    expect(statusVersionLine(undefined, T0)).toBe('Versions: not checked yet.');
  });
});
