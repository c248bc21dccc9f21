/**
 * The Bolt app: acks every command and click at once (Slack allows 3 s), then does the work
 * and answers privately. Signature verification is Bolt's and is never turned off.
 */
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { App, type BlockButtonAction, type CustomRoute, type RespondArguments, SocketModeReceiver } from '@slack/bolt';
import { slackLogger } from './slack-logger.js';
import { INTERACTIVE_RETRIES } from './retry-policy.js';
import { parseCommand } from '../core/command.js';
import { Forbidden, StranglerError, Unreachable } from '../core/errors.js';
import type { Logger } from '../log.js';
import type { SlackMessage } from './blocks.js';
import { ACTION, plain } from './blocks.js';
import { asUserError, type CommandRouter } from './command-router.js';
import type { Notifier } from './notifier.js';
import { renderError } from './render-error.js';
import { renderRequestAck } from './render-request.js';
import { RAMP_ACTION } from './render-ramp.js';
import { parseButtonValue } from './button-value.js';
import type { Click, RequestDesk } from './request-desk.js';
import { afterWaitingRequests, type FollowUps } from './follow-ups.js';
import type { EnvelopeLedger } from '../store/envelope-ledger.js';

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
  /** Socket Mode: envelopes already taken, so a redelivered one is handled once. */
  readonly envelopes?: EnvelopeLedger;
}

export interface SlackApp {
  readonly app: App;
  /** Where health and metrics are served (Bolt's HTTP server, or Socket Mode's small one). */
  start(): Promise<number>;
}

function ephemeral(m: SlackMessage): RespondArguments {
  return { response_type: 'ephemeral', replace_original: false, text: m.text, blocks: [...m.blocks] };
}

function renderBusy(pending: number): SlackMessage {
  return plain(`strangler is still working out ${pending} answers from a burst of commands, so it did not take this one; nothing was read or changed. Try again in a minute.`);
}

/** Why Socket Mode could not connect, said plainly (the app token is the usual suspect). */
function socketModeStartError(err: unknown): Error {
  const code = (err as { data?: { error?: string } })?.data?.error;
  // The codes the Socket Mode client gives up on at once (UnrecoverableSocketModeStartError).
  if (code === 'invalid_auth' || code === 'not_authed' || code === 'account_inactive' || code === 'user_removed_from_team' || code === 'team_disabled') {
    return new Forbidden(`Slack refused SLACK_APP_TOKEN for Socket Mode (${code}).`, 'Create an app-level token with connections:write (Basic Information → App-Level Tokens).');
  }
  return new Unreachable(`Could not open a Socket Mode connection to Slack (${code ?? (err as Error)?.message ?? String(err)}).`, err);
}

export function createSlackApp(o: SlackAppOptions): SlackApp {
  const logger = slackLogger(o.log, 'bolt');
  const clientOptions = { ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}), retryConfig: INTERACTIVE_RETRIES };
  // Socket Mode: Slack's envelopes come over a WebSocket the bot opens (apps.connections.open, on
  // SLACK_API_URL too); health and metrics are still served over HTTP on PORT. The envelope id is
  // handed to the middleware below, which drops redeliveries of what was already taken.
  const receiver = o.appToken
    ? new SocketModeReceiver({
        appToken: o.appToken,
        logger,
        // Only the API URL: the Socket Mode client's own retries of apps.connections.open (many,
        // backing off) suit a reconnect far better than the interactive policy's five.
        installerOptions: { port: o.port, clientOptions: o.apiUrl ? { slackApiUrl: o.apiUrl } : {} },
        customRoutes: o.routes,
        customPropertiesExtractor: (args) => ({ envelopeId: (args as { envelope_id?: unknown }).envelope_id }),
      })
    : undefined;
  const app = new App({
    token: o.botToken,
    ...(receiver ? { receiver } : { signingSecret: o.signingSecret, port: o.port, customRoutes: o.routes }),
    logger,
    clientOptions,
  });

  if (o.envelopes && receiver) {
    const ledger = o.envelopes;
    app.use(async (args) => {
      const { context, next } = args;
      const envelopeId = context['envelopeId'];
      if (typeof envelopeId !== 'string') return next();
      if (context.retryNum) {
        // Bounded: a redelivery is already late, and a Redis that does not answer must not hold
        // its ack for ever. Unknown counts as not handled: better twice-checked than dropped.
        const handled = await Promise.race([ledger.handled(envelopeId).catch(() => false), sleep(1000, false, { ref: false })]);
        if (handled) {
          o.log.info({ envelopeId, retryNum: context.retryNum }, 'redelivered Socket Mode envelope already handled; acked and ignored');
          const ack = (args as { ack?: () => Promise<void> }).ack;
          if (ack) await ack();
          return;
        }
      }
      await next();
      ledger.record(envelopeId).catch((err: Error) => o.log.warn({ err: err.message }, 'could not record a handled Socket Mode envelope'));
    });
  }

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
    const parsed = cmd;
    // The status of everything (the one everybody types in an incident) starts outside the limit
    // so that all of a burst shares one read; a status of one target waits its turn like the rest.
    const shared = cmd.kind === 'status' && cmd.target === undefined ? afterWaitingRequests().then(() => router.answer(parsed, origin)) : undefined;
    followUps.run(async () => {
      const answer = await (shared ?? router.answer(parsed, origin));
      await respond(ephemeral(answer)).catch((err: Error) => log.warn({ err: err.message }, 'could not answer the command'));
    });
  });

  // Clicks are not queued behind commands: they come at a human pace, and an approval is never
  // dropped or kept waiting behind a burst of `status`.
  const onButton = (actionId: string, handle: (click: Click, channel: string) => Promise<SlackMessage | void>) => {
    const answer = async (body: BlockButtonAction, action: BlockButtonAction['actions'][number]): Promise<void> => {
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
    };
    app.action<BlockButtonAction>({ action_id: actionId }, async ({ ack, body, action }) => {
      await ack();
      // Tracked, so a graceful stop lets an approval being recorded finish first.
      await followUps.track(answer(body, action));
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

  // A running ramp's buttons: each records the decision and wakes the worker; the message shows it.
  onButton(RAMP_ACTION.pause, async (click) => {
    await desk.ramps.pause(click);
  });
  onButton(RAMP_ACTION.resume, async (click) => {
    await desk.ramps.resume(click);
  });
  onButton(RAMP_ACTION.abort, async (click) => {
    await desk.ramps.abort(click);
  });

  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'slack app error');
  });

  return {
    app,
    async start() {
      // Socket Mode's HTTP server (health, metrics) is the receiver's; it listens as start()
      // begins, with no error listener of its own, so a port in use would be an uncaught error.
      const socketServer = receiver ? (receiver as unknown as { httpServer?: Server }).httpServer : undefined;
      const listenFailed = new Promise<never>((_, reject) => socketServer?.once('error', reject));
      let started: unknown;
      try {
        started = await Promise.race([
          app.start(o.port).catch((err: unknown) => {
            throw receiver ? socketModeStartError(err) : err;
          }),
          listenFailed,
        ]);
      } catch (err) {
        if (receiver) await Promise.resolve(receiver.stop()).catch(() => undefined);
        throw err;
      }
      const server = socketServer ?? (started as Server | undefined);
      if (!server) return o.port;
      if (!server.listening) await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
      const address = server.address();
      return typeof address === 'object' && address ? address.port : o.port;
    },
  };
}
