/**
 * Who may request and who may decide. Lists hold Slack user ids (U…/W…) and user group ids (S…);
 * group membership is resolved by the caller and passed in, so this stays pure.
 */
import type { ChangeRequest } from './change-request.js';
import { isRollback } from './change-request.js';
import { NotAnApprover, NotARequester, SelfApproval } from './errors.js';

export interface ApprovalRules {
  readonly approvers: readonly string[];
  /** Empty: anyone in the workspace may request. */
  readonly requesters: readonly string[];
  /** Four eyes on forward changes: off unless a team explicitly wants it. */
  readonly allowSelfApproval: boolean;
  /** An on-call engineer alone at night must be able to undo: on by default. */
  readonly allowSelfApprovalOfRollback: boolean;
}

/** Group id → member user ids, for the groups named in the lists. */
export type GroupMembers = ReadonlyMap<string, ReadonlySet<string>>;

export function groupIds(list: readonly string[]): string[] {
  return list.filter((id) => id.startsWith('S'));
}

function listed(user: string, list: readonly string[], groups: GroupMembers): boolean {
  return list.some((id) => id === user || (groups.get(id)?.has(user) ?? false));
}

export function assertMayRequest(user: string, rules: ApprovalRules, groups: GroupMembers): void {
  if (rules.requesters.length > 0 && !listed(user, rules.requesters, groups)) throw new NotARequester();
}

export function assertMayApprove(user: string, request: ChangeRequest, rules: ApprovalRules, groups: GroupMembers): void {
  if (!listed(user, rules.approvers, groups)) throw new NotAnApprover();
  if (user !== request.requestedBy) return;
  const allowed = isRollback(request) ? rules.allowSelfApprovalOfRollback : rules.allowSelfApproval;
  if (!allowed) throw new SelfApproval();
}

/** Only approvers decide; a requester who wants to withdraw uses `/strangle cancel`. */
export function assertMayReject(user: string, rules: ApprovalRules, groups: GroupMembers): void {
  if (!listed(user, rules.approvers, groups)) throw new NotAnApprover();
}
