/**
 * Keeps the approval message in step with its request. Slack being down must never undo or
 * block a change that already happened, so failures are logged, not thrown; the WebClient
 * itself retries 429s (honouring Retry-After) and 5xx.
 */
import type { WebClient } from '@slack/web-api';
import type { ChangeRequest } from '../core/change-request.js';
import type { Logger } from '../log.js';
import type { SlackMessage } from './blocks.js';
import { renderApprovalMessage } from './render-request.js';

export class Notifier {
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

  /** One attempt at showing a request's state; a failure is logged, the worker shows it again. */
  async showRequestOnce(r: ChangeRequest): Promise<void> {
    if (!r.message) return;
    const m = renderApprovalMessage(r);
    try {
      await this.quickClient.chat.update({ channel: r.message.channel, ts: r.message.ts, text: m.text, blocks: [...m.blocks] });
    } catch (err) {
      this.log.warn({ requestId: r.id, err: slackErrorCode(err) }, 'could not show the approval at once; the worker will');
    }
  }

  /** Updates of one request, chained so a slow or retried one can never be overtaken by a later one. */
  private readonly pending = new Map<number, Promise<void>>();

  showRequest(r: ChangeRequest): Promise<void> {
    const message = r.message;
    if (!message) return Promise.resolve();
    const m = renderApprovalMessage(r);
    const previous = this.pending.get(r.id) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        await this.client.chat.update({ channel: message.channel, ts: message.ts, text: m.text, blocks: [...m.blocks] });
      } catch (err) {
        this.log.error({ requestId: r.id, err: slackErrorCode(err) }, 'could not update the approval message');
      }
    });
    this.pending.set(r.id, next);
    void next.then(() => {
      if (this.pending.get(r.id) === next) this.pending.delete(r.id);
    });
    return next;
  }

  async reply(r: ChangeRequest, m: SlackMessage): Promise<void> {
    if (!r.message) return;
    try {
      await this.client.chat.postMessage({ channel: r.message.channel, thread_ts: r.message.ts, text: m.text, blocks: [...m.blocks] });
    } catch (err) {
      this.log.error({ requestId: r.id, err: slackErrorCode(err) }, 'could not reply in the approval thread');
    }
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
