/**
 * The Bolt app: acks every command and click at once (Slack allows 3 s), then does the work
 * and answers privately. Signature verification is Bolt's and is never turned off.
 */
import { App, type BlockButtonAction, type CustomRoute, type RespondArguments } from '@slack/bolt';
import { slackLogger } from './slack-logger.js';
import { INTERACTIVE_RETRIES } from './retry-policy.js';
import { parseCommand } from '../core/command.js';
import { StranglerError } from '../core/errors.js';
import type { Logger } from '../log.js';
import type { SlackMessage } from './blocks.js';
import { ACTION, plain } from './blocks.js';
import { asUserError, type CommandRouter } from './command-router.js';
import type { Notifier } from './notifier.js';
import { renderError } from './render-error.js';
import { renderRequestAck } from './render-request.js';
import { parseButtonValue } from './button-value.js';
import type { Click, RequestDesk } from './request-desk.js';
import { afterWaitingRequests, type FollowUps } from './follow-ups.js';

export interface SlackAppOptions {
  readonly botToken: string;
  readonly signingSecret: string;
  readonly appToken?: string | undefined;
  readonly apiUrl?: string | undefined;
  readonly port: number;
  readonly routes: CustomRoute[];
  readonly router: CommandRouter;
  readonly desk: RequestDesk;
  readonly notifier: Notifier;
  readonly approvalChannel?: string | undefined;
  readonly log: Logger;
  /** Where command answers are worked out after the ack, a few at a time. */
  readonly followUps: FollowUps;
  /** Called when a command is turned away as busy (for the metric). */
  readonly onBusy?: () => void;
}

function ephemeral(m: SlackMessage): RespondArguments {
  return { response_type: 'ephemeral', replace_original: false, text: m.text, blocks: [...m.blocks] };
}

function renderBusy(pending: number): SlackMessage {
  return plain(`strangler is still working out ${pending} answers from a burst of commands, so it did not take this one; nothing was read or changed. Try again in a minute.`);
}

export function createSlackApp(o: SlackAppOptions): App {
  const socketMode = Boolean(o.appToken);
  const app = new App({
    token: o.botToken,
    signingSecret: o.signingSecret,
    // In Socket Mode Bolt serves the custom routes (health, metrics) on installerOptions.port.
    ...(socketMode ? { socketMode: true, appToken: o.appToken, installerOptions: { port: o.port } } : {}),
    port: o.port,
    customRoutes: o.routes,
    logger: slackLogger(o.log, 'bolt'),
    clientOptions: {
      ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}),
      retryConfig: INTERACTIVE_RETRIES,
    },
  });

  const { router, desk, notifier, log, followUps } = o;

  app.command('/strangle', async ({ command, ack, respond }) => {
    const origin = { user: command.user_id, channel: command.channel_id };
    let cmd;
    try {
      cmd = parseCommand(command.text ?? '', { services: router.serviceNames, cronJobs: router.cronJobNames });
    } catch (err) {
      // Bad input is answered in the ack itself: nothing was read, nothing queued.
      await ack(ephemeral(renderError(err)));
      return;
    }
    if (cmd.kind === 'help') {
      // Pure rendering, no I/O: the answer fits in the ack.
      await ack(ephemeral(await router.answer(cmd, origin)));
      return;
    }
    if (!followUps.hasRoom) {
      o.onBusy?.();
      await ack(ephemeral(renderBusy(followUps.pending)));
      return;
    }
    await ack();
    log.info({ actor: origin.user, command: cmd.kind }, 'command');
    // A status read starts at once so that everyone asking joins the one in flight (the router
    // shares it); only posting the answer waits for a slot. Everything else waits as a whole.
    const parsed = cmd;
    const shared = cmd.kind === 'status' ? afterWaitingRequests().then(() => router.answer(parsed, origin)) : undefined;
    followUps.run(async () => {
      const answer = await (shared ?? router.answer(parsed, origin));
      await respond(ephemeral(answer)).catch((err: Error) => log.warn({ err: err.message }, 'could not answer the command'));
    });
  });

  // Clicks are not queued behind commands: they come at a human pace, and an approval is never
  // dropped or kept waiting behind a burst of `status`.
  const onButton = (actionId: string, handle: (click: Click, channel: string) => Promise<SlackMessage | void>) => {
    app.action<BlockButtonAction>({ action_id: actionId }, async ({ ack, body, action }) => {
      await ack();
      const user = body.user.id;
      const channel = body.channel?.id ?? body.container?.channel_id ?? '';
      const value = parseButtonValue(action.value);
      const id = value?.id;
      const messageTs = body.message?.ts ?? body.container?.message_ts;
      const click: Click = { value, user, message: channel && messageTs ? { channel, ts: messageTs } : undefined };
      try {
        const reply = await handle(click, channel);
        if (reply) await notifier.whisper(channel, user, reply);
      } catch (raw) {
        const err = asUserError(raw);
        if (!(err instanceof StranglerError)) log.error({ err: (raw as Error)?.stack, actionId, requestId: id }, 'button failed');
        else log.info({ actor: user, requestId: id, actionId, refused: err.code }, 'click refused');
        await notifier.whisper(channel, user, renderError(err));
      }
    });
  };

  onButton(ACTION.approve, async (click) => {
    // Shown before the job exists, in one quick attempt, so it can never land after the worker's
    // "applied" (the sweep leaves fresh approvals alone); the worker shows it only if this failed.
    const r = await desk.approve(click);
    const id = r.id;
    const shown = await notifier.showRequestOnce(r);
    try {
      await desk.dispatch(id, shown);
    } catch (err) {
      // The approval is recorded; the sweep queues it once Redis answers again.
      log.warn({ requestId: id, err: (err as Error).message }, 'approved but not queued yet');
      return plain(`Your approval of #${id} is recorded, but the bot could not queue it just now (its Redis store is unreachable). It will be applied automatically once the store is back; no need to click again.`);
    }
  });

  onButton(ACTION.reject, async (click) => {
    await notifier.showRequest(await desk.reject(click));
  });

  onButton(ACTION.rollback, async (click, channel) => {
    const of = await desk.forButton(click);
    const r = await desk.requestRollback(of, `Roll back button on request #${of.id}`, { user: click.user, channel });
    return renderRequestAck(r, o.approvalChannel ?? channel);
  });

  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'slack app error');
  });

  return app;
}
