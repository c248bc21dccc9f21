import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { nextRunAfter } from '../../src/queue/cron-schedule.js';
import { cronJobLines, renderWitness } from '../../src/slack/render-cron.js';

function move(to: 'kubernetes' | 'ec2'): ChangeRequest {
  const from = to === 'kubernetes' ? 'ec2' : 'kubernetes';
  return {
    id: 7,
    change: { kind: 'cron', job: 'nightly-report', from, to },
    reason: '',
    requestedBy: 'U0ALICE',
    requestedAt: 0,
    expiresAt: 1,
    origin: { channel: 'C0OPS' },
    status: 'applied',
  };
}

describe('next scheduled run', () => {
  it('follows the schedule in its time zone, and the CRON_TZ prefix', () => {
    const after = new Date('2026-11-25T10:00:00Z');
    expect(nextRunAfter('30 2 * * *', 'Europe/London', after)?.toISOString()).toBe('2026-11-26T02:30:00.000Z');
    expect(nextRunAfter('30 2 * * *', 'America/New_York', after)?.toISOString()).toBe('2026-11-26T07:30:00.000Z');
    expect(nextRunAfter('CRON_TZ=Asia/Tokyo 0 9 * * *', null, after)?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(nextRunAfter('@hourly', null, after)?.toISOString()).toBe('2026-11-25T11:00:00.000Z');
  });

  it('is null for a schedule it cannot read, rather than throwing', () => {
    expect(nextRunAfter('not a schedule', null, new Date())).toBeNull();
  });
});

describe('witness report', () => {
  const job = { name: 'nightly-report-29012345', createdAt: new Date('2026-11-25T02:30:01Z'), outcome: 'succeeded' as const };

  it('after a move to Kubernetes: the Job it started and how it ended', () => {
    expect(renderWitness(move('kubernetes'), [job], null, 'lock:nightly-report').text).toMatch(
      /^:white_check_mark: Witness for #7: Kubernetes started Job `nightly-report-29012345` at .*; it succeeded\./,
    );
  });

  it('after a move to Kubernetes with no Job: a warning and where to look', () => {
    const t = renderWitness(move('kubernetes'), [], 'ip-10-0-1-5', 'lock:nightly-report').text;
    expect(t).toContain(':warning: Witness for #7: Kubernetes has not started a Job');
    expect(t).toContain('`lock:nightly-report` was held by ip-10-0-1-5');
  });

  it('after a move to EC2: Kubernetes started nothing, and who held the lock', () => {
    const t = renderWitness(move('ec2'), [], 'ip-10-0-1-5 pid 77', 'lock:nightly-report').text;
    expect(t).toContain('Kubernetes did not start `nightly-report` after the move, as intended.');
    expect(t).toContain('held by ip-10-0-1-5 pid 77');
  });

  it('after a move to EC2 that Kubernetes ignored: a warning naming the Job', () => {
    expect(renderWitness(move('ec2'), [job], null, 'k').text).toContain(':warning: Witness for #7: Kubernetes still started Job `nightly-report-29012345`');
  });

  it('a lock value is escaped: it is text written by a job, not markup', () => {
    const line = cronJobLines({ job: 'j', namespace: 'n', name: 'j', lockKey: 'k', state: new Error('x'), holder: '<!channel>' });
    expect(line).toContain('held by &lt;!channel&gt;');
  });
});
