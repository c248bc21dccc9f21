/**
 * Resolves Slack user groups (S…) named in the approver/requester lists to their members,
 * cached briefly so a burst of clicks costs one API call. Needs the `usergroups:read` scope.
 */
import type { WebClient } from '@slack/web-api';
import type { GroupMembers } from '../core/approval-policy.js';
import { groupIds } from '../core/approval-policy.js';
import type { Logger } from '../log.js';
import { slackErrorCode } from './notifier.js';

const TTL_MS = 60_000;

export class GroupResolver {
  private cache = new Map<string, { at: number; members: ReadonlySet<string> }>();

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  async membersOf(list: readonly string[]): Promise<GroupMembers> {
    const out = new Map<string, ReadonlySet<string>>();
    for (const id of groupIds(list)) out.set(id, await this.members(id));
    return out;
  }

  private async members(id: string): Promise<ReadonlySet<string>> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.members;
    try {
      const res = await this.client.usergroups.users.list({ usergroup: id });
      const members = new Set(res.users ?? []);
      this.cache.set(id, { at: Date.now(), members });
      return members;
    } catch (err) {
      // Failing closed: while the group cannot be read, nobody counts as its member (not even
      // from an old cache: they may have been removed). Named approvers still work.
      this.log.warn({ group: id, err: slackErrorCode(err) }, 'could not read user group members');
      return new Set();
    }
  }
}
