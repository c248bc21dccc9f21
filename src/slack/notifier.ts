/**
 * Everything the bot posts and updates after answering a command: approval messages, thread
 * replies, drift alerts. Slack being down must never undo or block a change that already
 * happened, so failures are logged, not thrown; the WebClient itself retries 429s (honouring
 * Retry-After) and 5xx.
 */
import type { WebClient } from '@slack/web-api';
import type { ChangeRequest } from '../core/change-request.js';
import type { CronWitness, RequestDisplay } from '../core/ports.js';
import type { Logger } from '../log.js';
import type { SlackMessage } from './blocks.js';
import { renderWitness } from './render-cron.js';
import { renderApprovalMessage } from './render-request.js';
import { renderRampNews } from './render-ramp.js';
import type { RampNews } from '../queue/ramp-driver.js';

export interface MessageRef {
  readonly channel: string;
  readonly ts: string;
}

export class Notifier implements RequestDisplay {
  /**
   * @param quickClient one attempt, short timeout: for the "approved, applying…" update the web
   *   side sends before queueing the job, which must neither delay the change nor be retried
   *   into landing after the worker's "applied".
   */
  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
    private readonly quickClient: WebClient = client,
  ) {}

  /** Posts a message (in a thread when `thread` is given); its coordinates, or undefined if Slack refused. */
  async post(channel: string, m: SlackMessage, what: string, thread?: string): Promise<MessageRef | undefined> {
    try {
      const res = await this.client.chat.postMessage({ channel, ...(thread ? { thread_ts: thread } : {}), text: m.text, blocks: [...m.blocks] });
      return { channel: res.channel ?? channel, ts: res.ts ?? '' };
    } catch (err) {
      this.log.error({ channel, err: slackErrorCode(err) }, `could not post ${what}`);
      return undefined;
    }
  }

  /** Whether Slack took the update; a refusal is logged, not thrown. */
  async update(ref: MessageRef, m: SlackMessage, what: string, client: WebClient = this.client): Promise<boolean> {
    try {
      await client.chat.update({ channel: ref.channel, ts: ref.ts, text: m.text, blocks: [...m.blocks] });
      return true;
    } catch (err) {
      this.log.error({ channel: ref.channel, err: slackErrorCode(err) }, `could not update ${what}`);
      return false;
    }
  }

  /** One attempt at showing a request's state; whether it landed (if not, the worker shows it). */
  async showRequestOnce(r: ChangeRequest): Promise<boolean> {
    return r.message ? this.update(r.message, renderApprovalMessage(r), `request #${r.id} at once (the worker will)`, this.quickClient) : false;
  }

  /** Updates of one request, chained so a slow or retried one can never be overtaken by a later one. */
  private readonly pending = new Map<number, Promise<void>>();

  showRequest(r: ChangeRequest): Promise<void> {
    const message = r.message;
    if (!message) return Promise.resolve();
    const m = renderApprovalMessage(r);
    return this.inTurn(r.id, async () => {
      await this.update(message, m, `the approval message of request #${r.id}`);
    });
  }

  /** Runs `fn` after every update or reply of request `id` already queued (neither throws: both log). */
  private inTurn(id: number, fn: () => Promise<void>): Promise<void> {
    const previous = this.pending.get(id) ?? Promise.resolve();
    const next = previous.then(fn);
    this.pending.set(id, next);
    void next.then(() => {
      if (this.pending.get(id) === next) this.pending.delete(id);
    });
    return next;
  }

  async reply(r: ChangeRequest, m: SlackMessage): Promise<void> {
    if (r.message) await this.post(r.message.channel, m, `in the thread of request #${r.id}`, r.message.ts);
  }

  /**
   * A ramp's news (a breach, a pause, its end) in its message's thread, after the message itself.
   * Both are queued in turn at once, so a driver that does not wait for Slack still has its
   * updates and replies land in the order it gave them.
   */
  rampNews(r: ChangeRequest, news: RampNews): Promise<void> {
    const shown = this.showRequest(r);
    const m = renderRampNews(r, news);
    return m ? this.inTurn(r.id, () => this.reply(r, m)) : shown;
  }

  showWitness(r: ChangeRequest, w: CronWitness): Promise<void> {
    return this.reply(r, renderWitness(r, w.jobs, w.holder, w.lockKey));
  }

  async whisper(channel: string, user: string, m: SlackMessage): Promise<void> {
    try {
      await this.client.chat.postEphemeral({ channel, user, text: m.text, blocks: [...m.blocks] });
    } catch (err) {
      this.log.warn({ user, err: slackErrorCode(err) }, 'could not send a private message');
    }
  }
}

/** The Slack error code (`channel_not_found`) or the error's message, never the request with its token. */
export function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  return e?.data?.error ?? e?.code ?? e?.message ?? String(err);
}
