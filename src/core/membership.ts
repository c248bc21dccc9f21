/**
 * Who may look at the migration dashboard: the people the access rules already name. Approvers
 * always; requesters too, and when `requesters` is empty (anyone may request) anyone in the
 * workspace. Pure: group membership is resolved by the caller, as for approvals.
 */
import type { ApprovalRules, GroupMembers } from './approval-policy.js';

function listed(user: string, list: readonly string[], groups: GroupMembers): boolean {
  return list.some((id) => id === user || (groups.get(id)?.has(user) ?? false));
}

export function isMember(user: string, rules: Pick<ApprovalRules, 'approvers' | 'requesters'>, groups: GroupMembers): boolean {
  if (rules.requesters.length === 0) return true;
  return listed(user, rules.approvers, groups) || listed(user, rules.requesters, groups);
}
