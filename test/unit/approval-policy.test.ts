import { describe, expect, it } from 'vitest';
import {
  type ApprovalRules,
  type GroupMembers,
  assertMayApprove,
  assertMayReject,
  assertMayRequest,
  groupIds,
} from '../../src/core/approval-policy.js';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { NotAnApprover, NotARequester, SelfApproval } from '../../src/core/errors.js';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'W0CAROL';
const MALLORY = 'U0MALLORY';
const OPS = 'S0OPS';

const groups: GroupMembers = new Map([[OPS, new Set([CAROL])]]);

const rules = (over: Partial<ApprovalRules> = {}): ApprovalRules => ({
  approvers: [BOB, OPS],
  requesters: [],
  allowSelfApproval: false,
  allowSelfApprovalOfRollback: true,
  ...over,
});

function request(requestedBy: string, rollbackOf?: number): ChangeRequest {
  return {
    id: 7,
    change: { kind: 'cron', job: 'cleanup', from: 'ec2', to: 'kubernetes' },
    ...(rollbackOf === undefined ? {} : { rollbackOf }),
    reason: '',
    requestedBy,
    requestedAt: 0,
    expiresAt: 1_800_000,
    origin: { channel: 'C0OPS' },
    status: 'requested',
  };
}

describe('who may request', () => {
  it('an empty requesters list lets anyone request', () => {
    expect(() => assertMayRequest(MALLORY, rules(), groups)).not.toThrow();
  });

  it('a listed user, or a member of a listed group, may request', () => {
    const r = rules({ requesters: [ALICE, OPS] });
    expect(() => assertMayRequest(ALICE, r, groups)).not.toThrow();
    expect(() => assertMayRequest(CAROL, r, groups)).not.toThrow();
  });

  it('anyone else is refused with NotARequester', () => {
    const r = rules({ requesters: [ALICE, OPS] });
    expect(() => assertMayRequest(MALLORY, r, groups)).toThrow(NotARequester);
  });

  it('a group the caller could not resolve grants nobody', () => {
    expect(() => assertMayRequest(CAROL, rules({ requesters: [OPS] }), new Map())).toThrow(NotARequester);
  });
});

describe('who may approve', () => {
  it('an approver listed by user id may approve someone else’s request', () => {
    expect(() => assertMayApprove(BOB, request(ALICE), rules(), groups)).not.toThrow();
  });

  it('a member of an approver group may approve', () => {
    expect(() => assertMayApprove(CAROL, request(ALICE), rules(), groups)).not.toThrow();
  });

  it('a non-approver is refused with NotAnApprover', () => {
    expect(() => assertMayApprove(MALLORY, request(ALICE), rules(), groups)).toThrow(NotAnApprover);
  });

  it('a group id itself is not a user: someone whose id is not in the group gets nothing from it', () => {
    expect(() => assertMayApprove(ALICE, request(BOB), rules({ approvers: [OPS] }), groups)).toThrow(NotAnApprover);
  });

  it('an approver may not approve their own forward change by default', () => {
    expect(() => assertMayApprove(BOB, request(BOB), rules(), groups)).toThrow(SelfApproval);
  });

  it('self-approval of forward changes can be switched on', () => {
    expect(() => assertMayApprove(BOB, request(BOB), rules({ allowSelfApproval: true }), groups)).not.toThrow();
  });

  it('an approver may approve their own rollback by default', () => {
    expect(() => assertMayApprove(BOB, request(BOB, 3), rules(), groups)).not.toThrow();
  });

  it('self-approval of rollbacks can be switched off', () => {
    expect(() => assertMayApprove(BOB, request(BOB, 3), rules({ allowSelfApprovalOfRollback: false }), groups)).toThrow(SelfApproval);
  });

  it('allowing forward self-approval does not decide rollbacks', () => {
    const r = rules({ allowSelfApproval: true, allowSelfApprovalOfRollback: false });
    expect(() => assertMayApprove(BOB, request(BOB, 3), r, groups)).toThrow(SelfApproval);
  });

  it('a non-approver approving their own request is told they are not an approver, not about four eyes', () => {
    expect(() => assertMayApprove(MALLORY, request(MALLORY), rules(), groups)).toThrow(NotAnApprover);
  });

  it('the refusals carry their codes and a next step', () => {
    const cases: Array<[() => void, string]> = [
      [() => assertMayApprove(MALLORY, request(ALICE), rules(), groups), 'NOT_AN_APPROVER'],
      [() => assertMayApprove(BOB, request(BOB), rules(), groups), 'SELF_APPROVAL'],
      [() => assertMayRequest(MALLORY, rules({ requesters: [ALICE] }), groups), 'NOT_A_REQUESTER'],
    ];
    for (const [run, code] of cases) {
      try {
        run();
        throw new Error(`expected ${code}`);
      } catch (err) {
        expect((err as NotAnApprover).code).toBe(code);
        expect((err as NotAnApprover).hint).toBeTruthy();
      }
    }
  });
});

describe('who may reject', () => {
  it('approvers, directly or through a group, may reject', () => {
    expect(() => assertMayReject(BOB, rules(), groups)).not.toThrow();
    expect(() => assertMayReject(CAROL, rules(), groups)).not.toThrow();
  });

  it('an approver may reject their own request: refusing is never a risk', () => {
    expect(() => assertMayReject(BOB, rules(), groups)).not.toThrow();
  });

  it('a non-approver reject is refused', () => {
    expect(() => assertMayReject(MALLORY, rules(), groups)).toThrow(NotAnApprover);
  });
});

describe('groupIds', () => {
  it('picks the user group ids (S…) out of a list', () => {
    expect(groupIds([ALICE, OPS, CAROL, 'S0OTHER'])).toEqual([OPS, 'S0OTHER']);
    expect(groupIds([ALICE])).toEqual([]);
  });
});
