/**
 * Socket Mode envelopes already taken, so that one Slack redelivers is handled once, by whichever
 * replica saw it first. Slack redelivers an envelope (with `retry_attempt`) when it did not get
 * the ack within 3 s; the first delivery may well have been handled, and a slash command handled
 * twice would open two requests.
 *
 * Only redeliveries wait for Redis: a first delivery is recorded without holding up its ack, and
 * by the time Slack gives up on an ack, 3 s later, that record has long landed.
 */
import type { Redis } from 'ioredis';

export class EnvelopeLedger {
  constructor(
    private readonly redis: Redis,
    /** Slack retries within minutes; an hour is ample. */
    private readonly ttlSeconds = 3600,
  ) {}

  /** Records a first delivery; errors are the caller's to log (it must not hold up the ack). */
  record(envelopeId: string): Promise<unknown> {
    return this.redis.set(this.key(envelopeId), '1', 'EX', this.ttlSeconds, 'NX');
  }

  /** For a redelivery: true when no delivery of it was taken before (and it is now recorded). */
  async takeRedelivery(envelopeId: string): Promise<boolean> {
    return (await this.redis.set(this.key(envelopeId), '1', 'EX', this.ttlSeconds, 'NX')) === 'OK';
  }

  private key(envelopeId: string): string {
    return `strangler:envelope:${envelopeId}`;
  }
}
