/**
 * The work that follows an ack (reading Route 53 and Redis, answering through response_url,
 * recording a click), run a few at a time so that acks are never stuck behind it.
 *
 * Slack gives an ack 3 s; the answer may come later (a response_url is good for 30 minutes). In a
 * burst, running every follow-up at once leaves each new request's ack queued on the event loop
 * behind all of them: 50 people typing `status` together once pushed acks past 3 s. With a few
 * at a time, the loop keeps answering new requests between steps of the follow-ups, and the
 * follow-ups drain as the burst passes. Beyond `maxPending` waiting commands the bot says it is
 * busy in the ack itself (cheap, immediate, nothing changed) rather than let memory grow without
 * bound; clicks are always kept, since an approval must never be dropped.
 */
import pLimit from 'p-limit';

export interface FollowUpOptions {
  /** Follow-ups running at once (default 4). */
  readonly concurrency?: number;
  /** Commands waiting to start beyond which new commands are turned away (default 2000). */
  readonly maxPending?: number;
}

export class FollowUps {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly maxPending: number;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(opts: FollowUpOptions = {}) {
    this.limit = pLimit(opts.concurrency ?? 4);
    this.maxPending = opts.maxPending ?? 2000;
  }

  /** Whether a new command would be taken now (ask before acking: a busy answer goes in the ack). */
  get hasRoom(): boolean {
    return this.limit.pendingCount < this.maxPending;
  }

  get pending(): number {
    return this.limit.pendingCount;
  }

  /** Runs `work` when a slot is free; errors are the caller's (it logs them inside `work`). */
  run(work: () => Promise<void>): void {
    const done: Promise<void> = this.limit(() => afterWaitingRequests().then(work))
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** Resolves once every follow-up taken so far has finished: a graceful stop answers them first. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/**
 * Resolves from setImmediate, after the event loop has taken every request already waiting on its
 * sockets: the rest of a burst gets its ack before any answer is worked on.
 */
export function afterWaitingRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
