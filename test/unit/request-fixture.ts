/** A weight-change request to build unit-test cases from; each test overrides what it is about. */
import type { ChangeRequest, RequestStatus } from '../../src/core/change-request.js';
import type { PairSnapshot } from '../../src/core/ports.js';
import type { Weights } from '../../src/core/split.js';

export function snapshotOf(w: Weights, ttl: number | null = 60): PairSnapshot {
  const record = (id: string, weight: number) => ({ Name: 'api.example.com.', Type: 'A', SetIdentifier: id, Weight: weight });
  return { kubernetes: { setIdentifier: 'k8s', weight: w.kubernetes, record: record('k8s', w.kubernetes) }, ec2: { setIdentifier: 'ec2', weight: w.ec2, record: record('ec2', w.ec2) }, ttl };
}

export function weightRequestAt(
  t0: number,
  status: RequestStatus,
  over: Partial<ChangeRequest> & { from?: Weights; to?: Weights } = {},
): ChangeRequest {
  const { from = { kubernetes: 10, ec2: 90 }, to = { kubernetes: 30, ec2: 70 }, ...rest } = over;
  return {
    id: 12,
    change: { kind: 'weight', service: 'api', from, to, snapshot: snapshotOf(from) },
    reason: 'canary looks good',
    requestedBy: 'U0ALICE',
    requestedAt: t0,
    expiresAt: t0 + 30 * 60_000,
    origin: { channel: 'C0OPS' },
    status,
    ...rest,
  };
}
