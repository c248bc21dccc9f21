import { describe, expect, it } from 'vitest';
import {
  type ChangeRequest,
  type RequestStatus,
  type Transition,
  applyDurationMs,
  isOpen,
  isRollback,
  targetKey,
  targetName,
  transition,
  withMessage,
} from '../../src/core/change-request.js';
import { RequestClosed } from '../../src/core/errors.js';
import { weightRequestAt } from './request-fixture.js';

const T0 = 1_700_000_000_000;

function request(status: RequestStatus = 'requested', over: Partial<ChangeRequest> = {}): ChangeRequest {
  return weightRequestAt(T0, status, { reason: 'canary', ...over });
}

const failure = { code: 'VERIFY_FAILED', message: 'weights did not read back', hint: 'check status' };

const ALL_TRANSITIONS: Transition[] = [
  { type: 'approve', by: 'U0BOB', at: T0 + 1 },
  { type: 'reject', by: 'U0BOB', at: T0 + 1 },
  { type: 'cancel', by: 'U0ALICE', at: T0 + 1 },
  { type: 'expire', at: T0 + 1 },
  { type: 'start', at: T0 + 1 },
  { type: 'submitted', changeId: 'C123' },
  { type: 'note', note: 'lock held' },
  { type: 'witness', runAt: T0 + 1, at: T0 + 1 },
  { type: 'applied', at: T0 + 1 },
  { type: 'failed', at: T0 + 1, failure },
  { type: 'stale', at: T0 + 1, failure },
];

const ALL_STATUSES: RequestStatus[] = ['requested', 'approved', 'rejected', 'expired', 'cancelled', 'applying', 'applied', 'failed', 'stale'];

/** The only moves the life cycle allows; everything else must throw RequestClosed. */
const ALLOWED: Record<Transition['type'], readonly RequestStatus[]> = {
  approve: ['requested'],
  reject: ['requested'],
  cancel: ['requested'],
  expire: ['requested'],
  start: ['approved', 'applying'],
  submitted: ['applying'],
  note: ['applying'],
  witness: ['applying', 'applied'],
  applied: ['applying'],
  failed: ['approved', 'applying'],
  stale: ['approved', 'applying'],
};

describe('allowed transitions', () => {
  it('approve records who and when and moves to approved', () => {
    const r = transition(request(), { type: 'approve', by: 'U0BOB', at: T0 + 5_000 });
    expect(r).toMatchObject({ status: 'approved', decidedBy: 'U0BOB', decidedAt: T0 + 5_000 });
    expect(r.finishedAt).toBeUndefined();
  });

  it.each([
    ['reject', 'rejected'],
    ['cancel', 'cancelled'],
  ] as const)('%s decides and finishes the request', (type, status) => {
    const r = transition(request(), { type, by: 'U0BOB', at: T0 + 7 });
    expect(r).toMatchObject({ status, decidedBy: 'U0BOB', decidedAt: T0 + 7, finishedAt: T0 + 7 });
  });

  it('expire finishes the request without a decider', () => {
    const r = transition(request(), { type: 'expire', at: T0 + 9 });
    expect(r.status).toBe('expired');
    expect(r.finishedAt).toBe(T0 + 9);
    expect(r.decidedBy).toBeUndefined();
  });

  it('start moves an approved request to applying and stamps the start', () => {
    const r = transition(request('approved'), { type: 'start', at: T0 + 10 });
    expect(r).toMatchObject({ status: 'applying', applyStartedAt: T0 + 10 });
  });

  it('start is re-entrant from applying so a worker can resume, keeping the first start time', () => {
    const first = transition(request('approved'), { type: 'start', at: T0 + 10 });
    const resumed = transition(first, { type: 'start', at: T0 + 99 });
    expect(resumed.status).toBe('applying');
    expect(resumed.applyStartedAt).toBe(T0 + 10);
  });

  it('submitted records the Route 53 change id and stays applying', () => {
    const r = transition(request('applying'), { type: 'submitted', changeId: '/change/C1' });
    expect(r).toMatchObject({ status: 'applying', changeId: '/change/C1' });
  });

  it('notes accumulate in order', () => {
    const once = transition(request('applying'), { type: 'note', note: 'first' });
    const twice = transition(once, { type: 'note', note: 'second' });
    expect(twice.notes).toEqual(['first', 'second']);
    expect(once.notes).toEqual(['first']);
  });

  it('witness schedules the after-run check of a cron move, also once it is applied, without changing status', () => {
    expect(transition(request('applying'), { type: 'witness', runAt: T0 + 60, at: T0 + 70 })).toMatchObject({ status: 'applying', witnessRunAt: T0 + 60, witnessAt: T0 + 70 });
    expect(transition(request('applied'), { type: 'witness', runAt: T0 + 60, at: T0 + 80 })).toMatchObject({ status: 'applied', witnessRunAt: T0 + 60, witnessAt: T0 + 80 });
  });

  it('applied finishes an applying request', () => {
    const r = transition(request('applying'), { type: 'applied', at: T0 + 50 });
    expect(r).toMatchObject({ status: 'applied', finishedAt: T0 + 50 });
  });

  it.each([
    ['approved', 'failed'],
    ['applying', 'failed'],
    ['approved', 'stale'],
    ['applying', 'stale'],
  ] as const)('from %s, %s finishes with the failure recorded', (from, type) => {
    const r = transition(request(from), { type, at: T0 + 60, failure });
    expect(r).toMatchObject({ status: type, finishedAt: T0 + 60, failure });
  });

  it('transitions return a new request and leave the old one untouched', () => {
    const before = request();
    const after = transition(before, { type: 'approve', by: 'U0BOB', at: T0 + 1 });
    expect(after).not.toBe(before);
    expect(before.status).toBe('requested');
    expect(before.decidedBy).toBeUndefined();
  });

  it('the whole happy path: requested → approved → applying → applied', () => {
    let r = request();
    r = transition(r, { type: 'approve', by: 'U0BOB', at: T0 + 1_000 });
    r = transition(r, { type: 'start', at: T0 + 2_000 });
    r = transition(r, { type: 'submitted', changeId: 'C9' });
    r = transition(r, { type: 'applied', at: T0 + 42_000 });
    expect(r).toMatchObject({ status: 'applied', decidedBy: 'U0BOB', changeId: 'C9', applyStartedAt: T0 + 2_000, finishedAt: T0 + 42_000 });
    expect(applyDurationMs(r)).toBe(41_000);
  });
});

describe('disallowed transitions', () => {
  const disallowed = ALL_STATUSES.flatMap((status) =>
    ALL_TRANSITIONS.filter((t) => !ALLOWED[t.type].includes(status)).map((t) => [status, t.type, t] as const),
  );

  it('the table covers every status and every transition', () => {
    // 9 statuses × 11 transitions, minus the 15 allowed pairs.
    expect(disallowed).toHaveLength(9 * 11 - 15);
  });

  it.each(disallowed)('%s → %s throws RequestClosed naming the request and its status', (status, _type, t) => {
    const r = request(status);
    expect(() => transition(r, t)).toThrow(RequestClosed);
    expect(() => transition(r, t)).toThrow(`Request #12 is already ${status}; nothing changed.`);
  });

  it('every allowed pair in the table really is allowed', () => {
    for (const t of ALL_TRANSITIONS) {
      for (const status of ALLOWED[t.type]) {
        expect(() => transition(request(status), t)).not.toThrow();
      }
    }
  });

  it('a double click can only win once: approving twice fails the second time', () => {
    const once = transition(request(), { type: 'approve', by: 'U0BOB', at: T0 + 1 });
    expect(() => transition(once, { type: 'approve', by: 'U0CAROL', at: T0 + 2 })).toThrow(RequestClosed);
  });

  it.each(['expire', 'cancel', 'reject'] as const)('a request that was %sd can no longer be approved', (type) => {
    const closed = transition(request(), type === 'expire' ? { type, at: T0 + 1 } : { type, by: 'U0BOB', at: T0 + 1 });
    expect(() => transition(closed, { type: 'approve', by: 'U0BOB', at: T0 + 2 })).toThrow(RequestClosed);
  });

  it('nothing can be applied before it was approved', () => {
    expect(() => transition(request(), { type: 'applied', at: T0 + 1 })).toThrow(RequestClosed);
    expect(() => transition(request(), { type: 'start', at: T0 + 1 })).toThrow(RequestClosed);
  });

  it('the refusal has the REQUEST_CLOSED code', () => {
    try {
      transition(request('applied'), { type: 'cancel', by: 'U0ALICE', at: T0 });
      throw new Error('expected a refusal');
    } catch (err) {
      expect((err as RequestClosed).code).toBe('REQUEST_CLOSED');
    }
  });
});

describe('applyDurationMs', () => {
  it('measures from the approval click to the finish', () => {
    expect(applyDurationMs(request('applied', { decidedAt: T0 + 1_000, applyStartedAt: T0 + 3_000, finishedAt: T0 + 42_000 }))).toBe(41_000);
  });

  it('falls back to the apply start when there was no decision time', () => {
    expect(applyDurationMs(request('applied', { applyStartedAt: T0 + 3_000, finishedAt: T0 + 42_000 }))).toBe(39_000);
  });

  it('is undefined while unfinished or when nothing marks a start', () => {
    expect(applyDurationMs(request('applying', { decidedAt: T0 }))).toBeUndefined();
    expect(applyDurationMs(request('expired', { finishedAt: T0 + 5 }))).toBeUndefined();
  });
});

describe('helpers', () => {
  it('open statuses are requested, approved and applying', () => {
    const open = ALL_STATUSES.filter((s) => isOpen(request(s)));
    expect(open).toEqual(['requested', 'approved', 'applying']);
  });

  it('a request is a rollback when it names the request it undoes, even request 0', () => {
    expect(isRollback(request())).toBe(false);
    expect(isRollback(request('requested', { rollbackOf: 3 }))).toBe(true);
    expect(isRollback(request('requested', { rollbackOf: 0 }))).toBe(true);
  });

  it('target keys keep services and cron jobs of the same name apart', () => {
    const weight = request().change;
    const cron = { kind: 'cron', job: 'api', from: 'ec2', to: 'kubernetes' } as const;
    expect(targetKey(weight)).toBe('service:api');
    expect(targetKey(cron)).toBe('cron:api');
    expect(targetName(weight)).toBe('api');
    expect(targetName(cron)).toBe('api');
  });

  it('the approval message is recorded once: the first report wins, a later one changes nothing', () => {
    const posted = { channel: 'C0APPROVALS', ts: '1700000000.000100' };
    const duplicate = { channel: 'C0APPROVALS', ts: '1700000000.000200' };
    const r = request();
    expect(r.message).toBeUndefined();
    const recorded = withMessage(r, posted);
    expect(recorded.message).toEqual(posted);
    expect(r.message).toBeUndefined();
    expect(withMessage(recorded, duplicate)).toBe(recorded);
    expect(withMessage(r, undefined)).toBe(r);
  });
});
