/**
 * Requests as Slack sends them to the bot's Bolt HTTP endpoint (`/slack/events`), correctly signed.
 *
 * Wire facts (bolt-js src/receivers/verify-request.ts, HTTPModuleFunctions.ts):
 * - Signature: `v0=` + hex HMAC-SHA256 of `v0:${timestamp}:${rawBody}` keyed with the signing secret;
 *   Bolt rejects timestamps more than 5 minutes in the past (not in the future).
 * - Bolt compares the Content-Type header with `===` against `application/x-www-form-urlencoded`; any
 *   `; charset=…` suffix (what fetch adds for a URLSearchParams body) makes it JSON.parse the form and
 *   fail. So bodies are sent as pre-encoded strings with the exact header.
 * - Slash commands are plain form fields; interactions are a single form field `payload=<json>`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { TEST_APP_ID, TEST_BOT_ID, TEST_BOT_USER_ID, TEST_TEAM_DOMAIN, TEST_TEAM_ID, type SlackBlock } from './slack-stand-in.js';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
/** The deprecated verification token Slack still puts in every payload; Bolt ignores it. */
export const TEST_VERIFICATION_TOKEN = 'verificationtoken0strangler';
const EVENTS_PATH = '/slack/events';

export interface SlackSignatureHeaders {
  'X-Slack-Signature': string;
  'X-Slack-Request-Timestamp': string;
}

export function signSlackRequest(secret: string, body: string, timestamp: number = nowSeconds()): SlackSignatureHeaders {
  const ts = String(Math.floor(timestamp));
  const hex = createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  return { 'X-Slack-Signature': `v0=${hex}`, 'X-Slack-Request-Timestamp': ts };
}

export interface SendOptions {
  /** Unix seconds for X-Slack-Request-Timestamp (default now); older than 5 min is rejected by Bolt. */
  timestamp?: number;
  /** Send a signature that does not match the body. */
  badSignature?: boolean;
  /** Leave out both signature headers. */
  unsigned?: boolean;
  /** Slack's redelivery headers (X-Slack-Retry-Num / -Reason), as on Events API retries. */
  retryNum?: number;
  retryReason?: string;
}

export interface SentRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface SlackHttpResult {
  status: number;
  /** Response body as text (Bolt acks with an empty body or the ack() payload as JSON). */
  body: string;
  headers: Headers;
  /** Parse `body` as JSON; throws with the body in the message if it is not JSON. */
  json<T = any>(): T;
  /** Exactly what was sent, for replay via postSlackRaw. */
  request: SentRequest;
}

export interface SlashCommandInput {
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  command?: string;
  responseUrl: string;
  triggerId?: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
}

/** The form fields Slack posts for a slash command, in Slack's order. */
export function slashCommandFields(input: SlashCommandInput): Record<string, string> {
  return {
    token: TEST_VERIFICATION_TOKEN,
    team_id: input.teamId ?? TEST_TEAM_ID,
    team_domain: input.teamDomain ?? TEST_TEAM_DOMAIN,
    channel_id: input.channelId,
    channel_name: input.channelName ?? defaultChannelName(input.channelId),
    user_id: input.userId,
    user_name: input.userName ?? defaultUserName(input.userId),
    command: input.command ?? '/strangle',
    text: input.text,
    api_app_id: input.apiAppId ?? TEST_APP_ID,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? newTriggerId(),
  };
}

export async function postSlashCommand(
  baseUrl: string,
  secret: string,
  input: SlashCommandInput,
  opts: SendOptions = {},
): Promise<SlackHttpResult> {
  const body = new URLSearchParams(slashCommandFields(input)).toString();
  return postSigned(baseUrl, secret, body, opts);
}

export interface BlockActionInput {
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  messageTs: string;
  actionId: string;
  value: string;
  /** Default: the block_id of the block in `message.blocks` holding `actionId`, else "actions". */
  blockId?: string;
  responseUrl: string;
  /** The clicked message as Slack shows it; pass the stand-in's stored message to be realistic. */
  message?: { text?: string; blocks?: SlackBlock[]; user?: string; bot_id?: string; thread_ts?: string };
  /** Button label; default: the label found in `message.blocks`, else the value. */
  buttonText?: string;
  triggerId?: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
}

/** A block_actions payload for a button click on a (non-ephemeral) message. */
export function blockActionPayload(input: BlockActionInput): Record<string, any> {
  const teamId = input.teamId ?? TEST_TEAM_ID;
  const blocks = input.message?.blocks ?? [];
  const found = findElement(blocks, input.actionId);
  const userName = input.userName ?? defaultUserName(input.userId);
  return {
    type: 'block_actions',
    user: { id: input.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: input.apiAppId ?? TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    container: { type: 'message', message_ts: input.messageTs, channel_id: input.channelId, is_ephemeral: false },
    trigger_id: input.triggerId ?? newTriggerId(),
    team: { id: teamId, domain: input.teamDomain ?? TEST_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: input.channelName ?? defaultChannelName(input.channelId) },
    message: {
      type: 'message',
      user: input.message?.user ?? TEST_BOT_USER_ID,
      bot_id: input.message?.bot_id ?? TEST_BOT_ID,
      ts: input.messageTs,
      text: input.message?.text ?? '',
      blocks,
      ...(input.message?.thread_ts ? { thread_ts: input.message.thread_ts } : {}),
    },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        action_id: input.actionId,
        block_id: input.blockId ?? found?.blockId ?? 'actions',
        text: { type: 'plain_text', text: input.buttonText ?? found?.label ?? input.value, emoji: true },
        value: input.value,
        type: 'button',
        action_ts: slackTs(),
      },
    ],
  };
}

export async function postBlockAction(
  baseUrl: string,
  secret: string,
  input: BlockActionInput,
  opts: SendOptions = {},
): Promise<SlackHttpResult> {
  const body = new URLSearchParams({ payload: JSON.stringify(blockActionPayload(input)) }).toString();
  return postSigned(baseUrl, secret, body, opts);
}

/**
 * Send `body` with exactly these headers (no re-signing): replay a captured `result.request`, or a
 * hand-built request. `url` may be a base URL (then `/slack/events` is appended) or a full URL.
 */
export async function postSlackRaw(url: string, request: { body: string; headers: Record<string, string> }): Promise<SlackHttpResult> {
  const target = url.endsWith(EVENTS_PATH) || new URL(url).pathname.length > 1 ? url : eventsUrl(url);
  const res = await fetch(target, { method: 'POST', headers: request.headers, body: request.body });
  const text = await res.text();
  return {
    status: res.status,
    body: text,
    headers: res.headers,
    json<T>(): T {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`Bolt response (HTTP ${res.status}) is not JSON: ${JSON.stringify(text.slice(0, 500))}`);
      }
    },
    request: { url: target, body: request.body, headers: { ...request.headers } },
  };
}

async function postSigned(baseUrl: string, secret: string, body: string, opts: SendOptions): Promise<SlackHttpResult> {
  const headers: Record<string, string> = {
    'Content-Type': FORM_CONTENT_TYPE,
    'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    Accept: 'application/json,*/*',
  };
  if (!opts.unsigned) {
    const signed = signSlackRequest(secret, body, opts.timestamp);
    if (opts.badSignature) signed['X-Slack-Signature'] = corrupt(signed['X-Slack-Signature']);
    Object.assign(headers, signed);
  }
  if (opts.retryNum !== undefined) headers['X-Slack-Retry-Num'] = String(opts.retryNum);
  if (opts.retryReason !== undefined) headers['X-Slack-Retry-Reason'] = opts.retryReason;
  return postSlackRaw(eventsUrl(baseUrl), { body, headers });
}

function eventsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${EVENTS_PATH}`;
}

/** Same length and alphabet, different digest: fails the HMAC comparison, not the format checks. */
function corrupt(signature: string): string {
  const last = signature.slice(-1);
  return `${signature.slice(0, -1)}${last === '0' ? '1' : '0'}`;
}

function findElement(blocks: SlackBlock[], actionId: string): { blockId?: string; label?: string } | undefined {
  for (const block of blocks) {
    const elements: any[] = Array.isArray(block.elements) ? block.elements : block.accessory ? [block.accessory] : [];
    const el = elements.find((e) => e?.action_id === actionId);
    if (el) {
      return {
        ...(typeof block.block_id === 'string' ? { blockId: block.block_id } : {}),
        ...(typeof el.text?.text === 'string' ? { label: el.text.text } : {}),
      };
    }
  }
  return undefined;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function slackTs(): string {
  const now = Date.now();
  return `${Math.floor(now / 1000)}.${String((now % 1000) * 1000 + Math.floor(Math.random() * 1000)).padStart(6, '0')}`;
}

function newTriggerId(): string {
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');
  return `${digits(13)}.${digits(12)}.${randomBytes(16).toString('hex')}`;
}

function defaultUserName(userId: string): string {
  return `user-${userId.toLowerCase()}`;
}

function defaultChannelName(channelId: string): string {
  return channelId.startsWith('D') ? 'directmessage' : `chan-${channelId.toLowerCase()}`;
}
