/**
 * Socket Mode envelopes already handled, so that one Slack redelivers is handled once, by
 * whichever replica saw it. Slack redelivers an envelope (with `retry_attempt`) when it did not
 * get the ack within 3 s; the first delivery may well have been handled, and a slash command
 * handled twice would open two requests.
 *
 * An envelope is recorded once its handler has acked it and finished without error, never
 * before: one whose ack was lost or whose handler failed must still be handled when it comes
 * back. Only redeliveries read the ledger, so a first delivery's ack never waits for Redis.
 */
import type { Redis } from 'ioredis';

export class EnvelopeLedger {
  constructor(
    private readonly redis: Redis,
    /** Slack retries within minutes; an hour is ample. */
    private readonly ttlSeconds = 3600,
  ) {}

  record(envelopeId: string): Promise<unknown> {
    return this.redis.set(this.key(envelopeId), '1', 'EX', this.ttlSeconds);
  }

  async handled(envelopeId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(envelopeId))) === 1;
  }

  private key(envelopeId: string): string {
    return `strangler:envelope:${envelopeId}`;
  }
}
