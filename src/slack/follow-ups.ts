/**
 * The work that follows an ack: command answers (reading Route 53 and Redis, answering through
 * response_url), run a few at a time so that acks are never stuck behind them, and clicks.
 *
 * Slack gives an ack 3 s; the answer may come later (a response_url is good for 30 minutes). In a
 * burst, running every follow-up at once leaves each new request's ack queued on the event loop
 * behind all of them: 50 people typing `status` together once pushed acks past 3 s. With a few
 * at a time, the loop keeps answering new requests between steps of the follow-ups, and the
 * follow-ups drain as the burst passes. Beyond `maxPending` waiting commands the bot says it is
 * busy in the ack itself (cheap, immediate, nothing changed) rather than let memory grow without
 * bound. Clicks are not limited (they come at a human pace and an approval must never wait
 * behind a burst of `status`) but are tracked, so a graceful stop waits for them too.
 */
import pLimit from 'p-limit';

export interface FollowUpOptions {
  /** Follow-ups running at once (default 4). */
  readonly concurrency?: number;
  /** Commands waiting to start beyond which new commands are turned away (default 2000). */
  readonly maxPending?: number;
  /** Told of a follow-up that threw (they are expected to answer their own errors). */
  readonly onError?: (err: unknown) => void;
}

export class FollowUps {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly maxPending: number;
  private readonly onError: (err: unknown) => void;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(opts: FollowUpOptions = {}) {
    this.limit = pLimit(opts.concurrency ?? 4);
    this.maxPending = opts.maxPending ?? 2000;
    this.onError = opts.onError ?? (() => undefined);
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
    this.track(this.limit(() => afterWaitingRequests().then(work)));
  }

  /** Work that runs outside the limit (a click) but that a graceful stop still waits for. */
  track(work: Promise<void>): Promise<void> {
    const done: Promise<void> = work.catch(this.onError).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    return done;
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
