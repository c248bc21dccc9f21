/**
 * A local stand-in for the Slack Web API and for `response_url`s.
 *
 * Point Bolt at it with `new App({ clientOptions: { slackApiUrl: standIn.apiUrl } })`: every WebClient
 * call then arrives here as `POST /api/<method>`. The stand-in keeps what Slack would keep (the messages
 * of each channel, with their edit history; ephemerals; response_url posts) plus a chronological log of
 * every call, and can be told to fail the next call(s) the ways Slack does (ok:false, 429, 5xx).
 *
 * Wire facts it relies on (checked against @slack/web-api 8 and the Slack method docs):
 * - WebClient always POSTs `application/x-www-form-urlencoded` (multipart only when a Buffer is an
 *   argument) and JSON-encodes every non-scalar argument (`blocks`, `attachments`, `metadata`, …) into a
 *   string field; scalars arrive as strings ("true", "42"). JSON bodies are also accepted, as Slack does.
 * - The token travels as `Authorization: Bearer …`. When a token is given per call it is sent in the
 *   header AND left in the form body.
 * - Slack answers HTTP 200 with `{ok:false, error}` for method errors; only rate limiting uses 429 +
 *   `Retry-After` (seconds). Anything else non-200 the client treats as a transport error and retries.
 */
import { buffer as readBuffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from './free-port.js';

export const TEST_TEAM_ID = 'T0STRANGLR';
export const TEST_TEAM_DOMAIN = 'strangler-test';
export const TEST_APP_ID = 'A0STRANGLR';
export const TEST_BOT_USER_ID = 'U0STRANGLR';
export const TEST_BOT_ID = 'B0STRANGLR';

// Block Kit and message payloads are open-ended JSON; `any` keeps test assertions free of casts.
export type Json = any;
export type SlackBlock = { type: string; block_id?: string; [key: string]: Json };

/** Pseudo-method under which response_url posts appear in `calls` and take injected faults. */
export const RESPONSE_URL_METHOD = 'response_url';

export interface StandInOptions {
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  /** When set, any other bearer token gets `invalid_auth` (default: any non-empty token is accepted). */
  token?: string;
  /** usergroup id → member user ids, for `usergroups.users.list`. */
  usergroups?: Record<string, string[]>;
  users?: SeedUser[];
  /** Slack documents (loosely) 5 uses per response_url; unset means unlimited. */
  responseUrlMaxUses?: number;
}

export interface SeedUser {
  id: string;
  name?: string;
  real_name?: string;
  tz?: string;
  is_bot?: boolean;
  deleted?: boolean;
}

export interface ApiCall {
  seq: number;
  /** Web API method, or `response_url` for posts to a response URL. */
  method: string;
  /** Parsed arguments: JSON-string fields decoded back to objects; the token is removed (see `token`). */
  args: Record<string, Json>;
  token?: string;
  contentType: string;
  rawBody: string;
  /** Date.now() when the request arrived. */
  at: number;
  /** HTTP status the stand-in answered with. */
  status: number;
  ok: boolean;
  error?: string;
  responseId?: string;
}

export interface MessageVersion {
  text: string;
  blocks: SlackBlock[];
  attachments: Json[];
  metadata?: Json;
  at: number;
  via: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  user: string;
  bot_id: string;
  text: string;
  blocks: SlackBlock[];
  attachments: Json[];
  metadata?: Json;
  /** Files shared with the message (files.completeUploadExternal). */
  files?: Array<{ id: string; name: string; title: string | undefined }>;
  deleted: boolean;
  /** Every state the message has had, oldest first; the last one is the current state. */
  versions: MessageVersion[];
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
  blocks: SlackBlock[];
  message_ts: string;
  thread_ts?: string;
  at: number;
  /** `chat.postEphemeral`, or `response_url` for ephemeral responses to a bound response URL. */
  via: string;
}

export interface ResponseUrlPost {
  id: string;
  /** The JSON body as sent. */
  body: Json;
  text?: string;
  blocks?: SlackBlock[];
  response_type?: string;
  replace_original?: boolean;
  delete_original?: boolean;
  at: number;
  status: number;
}

/**
 * Where a response URL points, so its posts act on the stand-in's state like Slack would:
 * `replace_original` / `delete_original` on message `ts`, `in_channel` posts a new message in `channel`,
 * ephemeral posts reach `user`.
 */
export interface ResponseUrlTarget {
  channel: string;
  ts?: string;
  user?: string;
}

type Fault =
  | { kind: 'platform'; body: Record<string, Json>; httpStatus: number }
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  | { kind: 'server_error'; status: number }
  | { kind: 'delay'; ms: number };

export interface AnswerHold {
  /** Resolves with the call once it has been carried out and its answer is held. */
  readonly reached: Promise<ApiCall>;
  release(): void;
}

export interface StandInUpload {
  id: string;
  filename: string;
  /** The length the app announced in files.getUploadURLExternal. */
  length: number;
  /** What reached the upload URL. */
  bytes?: Buffer;
  completed: boolean;
  title?: string;
  channel?: string;
  initialComment?: string;
}

interface PendingHold extends AnswerHold {
  readonly released: Promise<void>;
  reach(call: ApiCall): void;
}

interface Reply {
  status: number;
  body: Json;
  headers?: Record<string, string>;
}

// Fields that are free text: a user may well type something that parses as JSON ("[1,2]").
const PLAIN_STRING_FIELDS = new Set([
  'text',
  'markdown_text',
  'fallback',
  'initial_comment',
  'title',
  'query',
  'alt_text',
  'username',
  'icon_emoji',
  'content',
  'ts',
  'thread_ts',
  'channel',
  'user',
]);

const WAIT_POLL_MS = 20;

export async function startSlackStandIn(options: StandInOptions = {}): Promise<SlackStandIn> {
  const standIn = new SlackStandIn(options);
  await standIn.listen();
  return standIn;
}

export class SlackStandIn {
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;

  private readonly server: Server;
  private readonly opts: StandInOptions;
  private baseUrl = '';
  private readonly callLog: ApiCall[] = [];
  private readonly channels = new Map<string, StoredMessage[]>();
  private readonly ephemeralLog: EphemeralMessage[] = [];
  private readonly responsePosts = new Map<string, ResponseUrlPost[]>();
  private readonly responseTargets = new Map<string, ResponseUrlTarget>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly holds = new Map<string, PendingHold[]>();
  private readonly usergroups = new Map<string, string[]>();
  private readonly users = new Map<string, SeedUser>();
  private tsCounter = 0;
  private seq = 0;
  private readonly startedAt = Date.now();

  constructor(options: StandInOptions = {}) {
    this.opts = options;
    this.teamId = options.teamId ?? TEST_TEAM_ID;
    this.teamDomain = options.teamDomain ?? TEST_TEAM_DOMAIN;
    this.appId = options.appId ?? TEST_APP_ID;
    this.botUserId = options.botUserId ?? TEST_BOT_USER_ID;
    this.botId = options.botId ?? TEST_BOT_ID;
    for (const [id, members] of Object.entries(options.usergroups ?? {})) this.seedUsergroup(id, members);
    for (const u of options.users ?? []) this.seedUser(u);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`stand-in crashed: ${err instanceof Error ? err.stack : String(err)}`);
      });
    });
  }

  /** @internal use startSlackStandIn() */
  async listen(): Promise<void> {
    const port = await listenOnLoopback(this.server);
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Value for `slackApiUrl`; the trailing slash matters (WebClient appends the method name). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get calls(): readonly ApiCall[] {
    return this.callLog;
  }

  callsTo(method: string): ApiCall[] {
    return this.callLog.filter((c) => c.method === method);
  }

  // ---- state helpers -------------------------------------------------------------------------

  /** Current, non-deleted messages of a channel in posting order (top-level and thread replies). */
  messages(channel: string): StoredMessage[] {
    return (this.channels.get(channel) ?? []).filter((m) => !m.deleted);
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.messages(channel).find((m) => m.ts === ts);
  }

  lastMessage(channel: string): StoredMessage | undefined {
    const list = this.messages(channel);
    return list[list.length - 1];
  }

  ephemerals(user?: string): EphemeralMessage[] {
    return user === undefined ? [...this.ephemeralLog] : this.ephemeralLog.filter((e) => e.user === user);
  }

  /** A URL Slack would hand out as `response_url`; `target` lets its posts act on a message/channel. */
  responseUrl(id: string, target?: ResponseUrlTarget): string {
    if (target) this.responseTargets.set(id, target);
    return `${this.baseUrl}/response/${encodeURIComponent(id)}`;
  }

  responses(id: string): ResponseUrlPost[] {
    return [...(this.responsePosts.get(id) ?? [])];
  }

  seedUsergroup(id: string, users: string[]): void {
    this.usergroups.set(id, [...users]);
  }

  seedUser(user: SeedUser): void {
    this.users.set(user.id, { ...user });
  }

  /** Forget messages, calls, responses and pending faults (seeded users and groups stay). */
  reset(): void {
    this.callLog.length = 0;
    this.channels.clear();
    this.ephemeralLog.length = 0;
    this.responsePosts.clear();
    this.responseTargets.clear();
    this.faults.clear();
    this.homeViews.clear();
    this.uploadLog.clear();
  }

  // ---- fault injection -----------------------------------------------------------------------
  // Faults queue per method ('*' matches any method, consulted after the method's own queue) and
  // are used up one per call, in the order they were added.

  /**
   * Answer the next `count` calls of `method` with `{ok:false, ...body}`. HTTP 200 like Slack, except for
   * `response_url` where the default is 404 (Slack's exact status there is unconfirmed).
   */
  failNext(method: string, body: { error: string; [key: string]: Json }, opts: { count?: number; httpStatus?: number } = {}): void {
    const httpStatus = opts.httpStatus ?? (method === RESPONSE_URL_METHOD ? 404 : 200);
    this.addFaults(method, opts.count ?? 1, { kind: 'platform', body: { ...body }, httpStatus });
  }

  /** HTTP 429 with `Retry-After: retryAfterSeconds` (integer seconds: the client parses it with parseInt). */
  rateLimitNext(method: string, count = 1, retryAfterSeconds = 1): void {
    this.addFaults(method, count, { kind: 'rate_limited', retryAfterSeconds });
  }

  serverErrorNext(method: string, count = 1, status = 500): void {
    this.addFaults(method, count, { kind: 'server_error', status });
  }

  /** Hold the next `count` calls for `ms` before answering normally (slow Slack, ack-deadline tests). */
  delayNext(method: string, ms: number, count = 1): void {
    this.addFaults(method, count, { kind: 'delay', ms });
  }

  /**
   * Carry out the next call of `method` at once (a posted message is visible, and can be clicked,
   * straight away) but keep its answer until `release()`: the real Slack shows a message to
   * people before chat.postMessage has answered the bot. `reached` resolves, with the call, once
   * the call has been carried out and its answer is being held.
   */
  holdAnswerOfNext(method: string): AnswerHold {
    let reach!: (call: ApiCall) => void;
    let release!: () => void;
    const hold: PendingHold = {
      reached: new Promise<ApiCall>((resolve) => (reach = resolve)),
      released: new Promise<void>((resolve) => (release = resolve)),
      reach: (call) => reach(call),
      release: () => release(),
    };
    const queue = this.holds.get(method) ?? [];
    queue.push(hold);
    this.holds.set(method, queue);
    return hold;
  }

  private addFaults(method: string, count: number, fault: Fault): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < count; i += 1) queue.push(fault);
    this.faults.set(method, queue);
  }

  private takeFault(method: string): Fault | undefined {
    return this.faults.get(method)?.shift() ?? this.faults.get('*')?.shift();
  }

  // ---- waiting -------------------------------------------------------------------------------

  /**
   * Poll `predicate` until it returns a truthy value and resolve with it. A predicate that throws (e.g.
   * an `expect`) counts as "not yet"; on timeout the last thrown message and the recent calls are in the
   * rejection, because "timed out" alone says nothing about what the bot did instead.
   */
  async waitFor<T>(
    predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>,
    timeoutMs = 5_000,
    description = 'condition',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = await predicate();
        if (value) return value;
        lastError = undefined;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) break;
      await sleep(WAIT_POLL_MS);
    }
    const why = lastError instanceof Error ? `\nlast predicate error: ${lastError.message}` : '';
    throw new Error(`waitFor(${description}) timed out after ${timeoutMs} ms${why}\n${this.describeRecentCalls()}`);
  }

  describeRecentCalls(limit = 20): string {
    if (this.callLog.length === 0) return 'Slack stand-in received no calls.';
    const recent = this.callLog.slice(-limit);
    const lines = recent.map((c) => {
      const outcome = c.ok ? 'ok' : `${c.status} ${c.error ?? ''}`.trim();
      return `  #${c.seq} +${c.at - this.startedAt}ms ${c.method} → ${outcome} ${summarizeArgs(c)}`;
    });
    const skipped = this.callLog.length - recent.length;
    return `Slack stand-in calls${skipped > 0 ? ` (last ${recent.length} of ${this.callLog.length})` : ''}:\n${lines.join('\n')}`;
  }

  async close(): Promise<void> {
    for (const queue of this.holds.values()) for (const hold of queue) hold.release();
    // fetch (undici) keeps connections alive; without this, close() waits for them to time out.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBuffer(req);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    if (api && (req.method === 'POST' || req.method === 'GET')) {
      const reply = await this.handleApi(api[1]!, req, url, raw, contentType);
      return send(res, reply);
    }
    const upload = /^\/upload\/([^/]+)$/.exec(url.pathname);
    if (upload && req.method === 'POST') return send(res, await this.receiveUpload(decodeURIComponent(upload[1]!), raw, req.headers['content-type']));
    const resp = /^\/response\/([^/]+)$/.exec(url.pathname);
    if (resp && req.method === 'POST') {
      const reply = await this.handleResponseUrl(decodeURIComponent(resp[1]!), raw, contentType);
      return send(res, reply);
    }
    send(res, { status: 404, body: { ok: false, error: 'stand_in_no_route', path: url.pathname } });
  }

  private async handleApi(method: string, req: IncomingMessage, url: URL, raw: Buffer, contentType: string): Promise<Reply> {
    let args: Record<string, Json>;
    let parseError: string | undefined;
    try {
      args = { ...Object.fromEntries(url.searchParams), ...(await parseArgs(raw, contentType, req.headers['content-type'])) };
    } catch (err) {
      args = {};
      parseError = err instanceof Error ? err.message : String(err);
    }
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined;
    delete args.token;

    const call: ApiCall = {
      seq: ++this.seq,
      method,
      args,
      ...(bearer ? { token: bearer } : {}),
      contentType,
      rawBody: raw.toString('utf8'),
      at: Date.now(),
      status: 0,
      ok: false,
    };
    this.callLog.push(call);

    const reply = await this.answerApi(method, args, bearer, parseError);
    call.status = reply.status;
    call.ok = reply.status === 200 && reply.body?.ok === true;
    if (!call.ok) call.error = typeof reply.body?.error === 'string' ? reply.body.error : `http_${reply.status}`;
    const hold = this.holds.get(method)?.shift();
    if (hold) {
      hold.reach(call);
      await hold.released;
    }
    return reply;
  }

  private async answerApi(method: string, args: Record<string, Json>, bearer: string | undefined, parseError?: string): Promise<Reply> {
    if (parseError) return platformError(parseError.startsWith('json') ? 'invalid_json' : 'invalid_form_data');
    // Slack also takes `token` as a form field, but WebClient always sends the header, so requiring
    // it here catches a client built without a token instead of hiding it.
    if (!bearer) return platformError('not_authed');
    // Socket Mode's handshake takes the app-level token (xapp-…) and nothing else, as Slack does.
    if (method === 'apps.connections.open') return this.openConnection(bearer);
    if (bearer.startsWith('xapp-')) return platformError('not_allowed_token_type');
    if (this.opts.token !== undefined && bearer !== this.opts.token) return platformError('invalid_auth');

    const fault = await this.consumeFaults(method);
    if (fault) return fault;

    switch (method) {
      case 'api.test':
        return okReply({ args });
      case 'auth.test':
        return okReply({
          url: `https://${this.teamDomain}.slack.com/`,
          team: this.teamDomain,
          user: 'strangler',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          app_id: this.appId,
          is_enterprise_install: false,
        });
      case 'chat.postMessage':
        return this.postMessage(args, method);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.delete':
        return this.deleteMessage(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'usergroups.users.list': {
        if (typeof args.usergroup !== 'string' || args.usergroup === '') return platformError('invalid_arguments');
        const members = this.usergroups.get(args.usergroup);
        return members ? okReply({ users: [...members] }) : platformError('no_such_subteam');
      }
      case 'users.info':
        return this.userInfo(args);
      case 'views.publish':
        return this.publishView(args);
      case 'chat.getPermalink':
        return this.permalink(args);
      case 'files.getUploadURLExternal':
        return this.uploadUrl(args);
      case 'files.completeUploadExternal':
        return this.completeUpload(args);
      default:
        return platformError('unknown_method');
    }
  }

  // ---- App Home views and external file uploads ------------------------------------------------
  // views.publish keeps each user's Home view (the last one published wins, as in Slack).
  // Uploads follow Slack's external flow, which WebClient.filesUploadV2 drives: getUploadURLExternal
  // (filename, length) → POST of the bytes to the returned upload_url (WebClient sends them as the
  // multipart field `body`) → completeUploadExternal (files [{id, title}], channel_id, initial_comment),
  // which shares the file in the channel as a message carrying it.

  private readonly homeViews = new Map<string, Array<{ at: number; view: Json }>>();
  private readonly uploadLog = new Map<string, StandInUpload>();
  private uploadSeq = 0;

  /** Every Home view published for `user`, oldest first. */
  publishedViews(user: string): Array<{ at: number; view: Json }> {
    return [...(this.homeViews.get(user) ?? [])];
  }

  /** The Home view `user` sees now. */
  homeView(user: string): { blocks: SlackBlock[] } | undefined {
    return this.homeViews.get(user)?.at(-1)?.view;
  }

  /** Files uploaded through the external flow, in the order their upload URLs were handed out. */
  get uploads(): StandInUpload[] {
    return [...this.uploadLog.values()];
  }

  private publishView(args: Record<string, Json>): Reply {
    const user = args.user_id;
    if (typeof user !== 'string' || user === '') return platformError('invalid_arguments');
    const view = args.view;
    if (!view || typeof view !== 'object' || view.type !== 'home') return platformError('invalid_arguments');
    // Slack's own limit for a view; over it the publish is refused.
    if (!Array.isArray(view.blocks) || view.blocks.length > 100) return platformError('invalid_blocks');
    const list = this.homeViews.get(user) ?? [];
    list.push({ at: Date.now(), view });
    this.homeViews.set(user, list);
    return okReply({ view: { id: `V${list.length}${user}`, type: 'home', blocks: view.blocks } });
  }

  private permalink(args: Record<string, Json>): Reply {
    const { channel, message_ts: ts } = args;
    if (typeof channel !== 'string' || typeof ts !== 'string' || !this.message(channel, ts)) return platformError('message_not_found');
    return okReply({ channel, permalink: `https://${this.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}` });
  }

  private uploadUrl(args: Record<string, Json>): Reply {
    const length = Number(args.length);
    if (typeof args.filename !== 'string' || args.filename === '' || !Number.isInteger(length) || length <= 0) return platformError('invalid_arguments');
    const id = `F0UPLOAD${++this.uploadSeq}`;
    this.uploadLog.set(id, { id, filename: args.filename, length, completed: false });
    return okReply({ upload_url: `${this.baseUrl}/upload/${id}`, file_id: id });
  }

  private async receiveUpload(id: string, raw: Buffer, contentType: string | undefined): Promise<Reply> {
    const upload = this.uploadLog.get(id);
    if (!upload || upload.bytes) return { status: 404, body: 'unknown or used upload URL' };
    let bytes = raw;
    if ((contentType ?? '').startsWith('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': contentType! } }).formData();
      const part = form.get('body') ?? form.get('file');
      if (!part || typeof part === 'string') return { status: 400, body: 'no file part' };
      bytes = Buffer.from(await part.arrayBuffer());
    }
    upload.bytes = bytes;
    return { status: 200, body: `OK - ${bytes.length}` };
  }

  private completeUpload(args: Record<string, Json>): Reply {
    const files = args.files;
    if (!Array.isArray(files) || files.length === 0) return platformError('invalid_arguments');
    const done: StandInUpload[] = [];
    for (const f of files) {
      const upload = this.uploadLog.get(f?.id);
      if (!upload) return platformError('file_not_found');
      // Slack checks the bytes it got against the length it was told.
      if (!upload.bytes || upload.bytes.length !== upload.length) return platformError('file_upload_size_mismatch');
      done.push(upload);
    }
    const channel = typeof args.channel_id === 'string' && args.channel_id ? args.channel_id : undefined;
    for (const [i, u] of done.entries()) {
      u.completed = true;
      u.title = typeof files[i]?.title === 'string' ? files[i].title : u.filename;
      if (channel) u.channel = channel;
      if (typeof args.initial_comment === 'string') u.initialComment = args.initial_comment;
    }
    if (channel) {
      const content = { text: typeof args.initial_comment === 'string' ? args.initial_comment : '', blocks: [], attachments: [] };
      this.storeMessage(channel, args, content, 'files.completeUploadExternal', { files: done.map((u) => ({ id: u.id, name: u.filename, title: u.title })) });
    }
    return okReply({ files: done.map((u) => ({ id: u.id, name: u.filename, title: u.title })) });
  }

  /** Where `apps.connections.open` sends the app: a Socket Mode stand-in's next single-use URL. */
  socketMode: { nextUrl(): string } | undefined;
  /** The app-level token `apps.connections.open` accepts (any xapp- token when unset). */
  appToken: string | undefined;

  private async openConnection(bearer: string): Promise<Reply> {
    if (!bearer.startsWith('xapp-')) return platformError('not_allowed_token_type');
    if (this.appToken !== undefined && bearer !== this.appToken) return platformError('invalid_auth');
    const fault = await this.consumeFaults('apps.connections.open');
    if (fault) return fault;
    if (!this.socketMode) return platformError('socket_mode_not_enabled');
    return okReply({ url: this.socketMode.nextUrl() });
  }

  private async consumeFaults(method: string): Promise<Reply | undefined> {
    let fault = this.takeFault(method);
    // A delay is not an answer: wait, then answer as if no delay had been queued.
    while (fault?.kind === 'delay') {
      await sleep(fault.ms);
      fault = this.takeFault(method);
    }
    if (!fault) return undefined;
    switch (fault.kind) {
      case 'platform':
        return { status: fault.httpStatus, body: { ...fault.body, ok: false } };
      case 'rate_limited':
        return {
          status: 429,
          headers: { 'retry-after': String(fault.retryAfterSeconds) },
          body: { ok: false, error: 'ratelimited' },
        };
      case 'server_error':
        return { status: fault.status, body: `stand-in: injected HTTP ${fault.status}` };
    }
  }

  private nextTs(): string {
    this.tsCounter += 1;
    const micros = this.tsCounter * 100;
    return `${1_700_000_000 + Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  private postMessage(args: Record<string, Json>, via: string): Reply {
    const channel = args.channel;
    if (typeof channel !== 'string' || channel === '') return platformError('channel_not_found');
    if (!hasContent(args)) return platformError('no_text');
    const msg = this.storeMessage(channel, args, contentOf(args), via);
    return okReply({ channel, ts: msg.ts, message: this.wireMessage(msg) });
  }

  /** A new message from the bot in `channel` (in `args.thread_ts`'s thread, if any), as Slack keeps it. */
  private storeMessage(channel: string, args: Record<string, Json>, content: ReturnType<typeof contentOf>, via: string, extra: Partial<StoredMessage> = {}): StoredMessage {
    const msg: StoredMessage = {
      channel,
      ts: this.nextTs(),
      ...(typeof args.thread_ts === 'string' && args.thread_ts ? { thread_ts: args.thread_ts } : {}),
      user: this.botUserId,
      bot_id: this.botId,
      ...content,
      ...extra,
      deleted: false,
      versions: [{ ...content, at: Date.now(), via }],
    };
    const list = this.channels.get(channel) ?? [];
    list.push(msg);
    this.channels.set(channel, list);
    return msg;
  }

  private updateMessage(args: Record<string, Json>, via = 'chat.update'): Reply {
    const { channel, ts } = args;
    if (typeof channel !== 'string' || channel === '') return platformError('channel_not_found');
    if (typeof ts !== 'string' || ts === '') return platformError('message_not_found');
    const msg = this.message(channel, ts);
    if (!msg) return platformError('message_not_found');
    if (!hasContent(args)) return platformError('no_text');
    // Slack keeps blocks/attachments that an update omits (documented), but text is the notification
    // fallback: blanking it when omitted makes a test notice a bot that forgets to send it.
    msg.text = typeof args.text === 'string' ? args.text : '';
    if (Array.isArray(args.blocks)) msg.blocks = args.blocks;
    if (Array.isArray(args.attachments)) msg.attachments = args.attachments;
    if (args.metadata !== undefined) msg.metadata = args.metadata;
    msg.versions.push({
      text: msg.text,
      blocks: msg.blocks,
      attachments: msg.attachments,
      ...(msg.metadata !== undefined ? { metadata: msg.metadata } : {}),
      at: Date.now(),
      via,
    });
    return okReply({ channel, ts, text: msg.text, message: this.wireMessage(msg) });
  }

  private deleteMessage(args: Record<string, Json>): Reply {
    const { channel, ts } = args;
    if (typeof channel !== 'string' || channel === '') return platformError('channel_not_found');
    const msg = typeof ts === 'string' ? this.message(channel, ts) : undefined;
    if (!msg) return platformError('message_not_found');
    msg.deleted = true;
    return okReply({ channel, ts });
  }

  private postEphemeral(args: Record<string, Json>, via = 'chat.postEphemeral'): Reply {
    const { channel, user } = args;
    if (typeof channel !== 'string' || channel === '') return platformError('channel_not_found');
    if (typeof user !== 'string' || user === '') return platformError('user_not_found');
    if (!hasContent(args)) return platformError('no_text');
    const e: EphemeralMessage = {
      channel,
      user,
      text: typeof args.text === 'string' ? args.text : '',
      blocks: Array.isArray(args.blocks) ? args.blocks : [],
      message_ts: this.nextTs(),
      ...(typeof args.thread_ts === 'string' && args.thread_ts ? { thread_ts: args.thread_ts } : {}),
      at: Date.now(),
      via,
    };
    this.ephemeralLog.push(e);
    return okReply({ message_ts: e.message_ts });
  }

  private userInfo(args: Record<string, Json>): Reply {
    const id = args.user;
    if (typeof id !== 'string' || id === '') return platformError('user_not_found');
    // Unseeded but well-formed ids get a plausible user so tests need not seed everyone they mention.
    const seeded = this.users.get(id) ?? (/^[UW][A-Z0-9]{2,}$/.test(id) ? { id } : undefined);
    if (!seeded) return platformError('user_not_found');
    const name = seeded.name ?? id.toLowerCase();
    const realName = seeded.real_name ?? name;
    return okReply({
      user: {
        id,
        team_id: this.teamId,
        name,
        real_name: realName,
        deleted: seeded.deleted ?? false,
        is_bot: seeded.is_bot ?? false,
        tz: seeded.tz ?? 'Etc/UTC',
        profile: { real_name: realName, display_name: name },
      },
    });
  }

  private wireMessage(msg: StoredMessage): Record<string, Json> {
    return {
      type: 'message',
      user: msg.user,
      bot_id: msg.bot_id,
      app_id: this.appId,
      team: this.teamId,
      ts: msg.ts,
      text: msg.text,
      ...(msg.blocks.length ? { blocks: msg.blocks } : {}),
      ...(msg.attachments.length ? { attachments: msg.attachments } : {}),
      ...(msg.thread_ts ? { thread_ts: msg.thread_ts } : {}),
    };
  }

  // ---- response_url --------------------------------------------------------------------------

  private async handleResponseUrl(id: string, raw: Buffer, contentType: string): Promise<Reply> {
    let body: Json;
    let parseError: string | undefined;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch (err) {
      body = raw.toString('utf8');
      parseError = err instanceof Error ? err.message : String(err);
    }
    const call: ApiCall = {
      seq: ++this.seq,
      method: RESPONSE_URL_METHOD,
      args: typeof body === 'object' && body !== null ? body : { body },
      contentType,
      rawBody: raw.toString('utf8'),
      at: Date.now(),
      status: 0,
      ok: false,
      responseId: id,
    };
    this.callLog.push(call);

    const reply = await this.answerResponseUrl(id, body, parseError);
    call.status = reply.status;
    call.ok = reply.status === 200;
    if (!call.ok) call.error = typeof reply.body?.error === 'string' ? reply.body.error : `http_${reply.status}`;

    const post: ResponseUrlPost = {
      id,
      body,
      ...(typeof body?.text === 'string' ? { text: body.text } : {}),
      ...(Array.isArray(body?.blocks) ? { blocks: body.blocks } : {}),
      ...(typeof body?.response_type === 'string' ? { response_type: body.response_type } : {}),
      ...(typeof body?.replace_original === 'boolean' ? { replace_original: body.replace_original } : {}),
      ...(typeof body?.delete_original === 'boolean' ? { delete_original: body.delete_original } : {}),
      at: call.at,
      status: reply.status,
    };
    const list = this.responsePosts.get(id) ?? [];
    list.push(post);
    this.responsePosts.set(id, list);
    return reply;
  }

  private async answerResponseUrl(id: string, body: Json, parseError?: string): Promise<Reply> {
    if (parseError) return { status: 400, body: { ok: false, error: 'invalid_payload' } };
    const fault = await this.consumeFaults(RESPONSE_URL_METHOD);
    if (fault) return fault;
    const max = this.opts.responseUrlMaxUses;
    const used = (this.responsePosts.get(id) ?? []).filter((p) => p.status === 200).length;
    if (max !== undefined && used >= max) return { status: 404, body: { ok: false, error: 'used_url' } };

    const target = this.responseTargets.get(id);
    if (target) {
      const applied = this.applyResponse(target, body);
      if (applied && applied.body?.ok !== true) return { status: 404, body: applied.body };
    }
    return okReply({});
  }

  private applyResponse(target: ResponseUrlTarget, body: Json): Reply | undefined {
    if (body?.delete_original === true && target.ts) {
      return this.deleteMessage({ channel: target.channel, ts: target.ts });
    }
    if (body?.replace_original === true && target.ts) {
      return this.updateMessage({ ...body, channel: target.channel, ts: target.ts }, RESPONSE_URL_METHOD);
    }
    if (body?.response_type === 'in_channel') {
      return this.postMessage({ ...body, channel: target.channel }, RESPONSE_URL_METHOD);
    }
    if (target.user) {
      return this.postEphemeral({ ...body, channel: target.channel, user: target.user }, RESPONSE_URL_METHOD);
    }
    return undefined;
  }
}

/** Every piece of human-readable text in a message (text plus all text inside blocks), for assertions. */
export function renderedText(msg: { text?: string; blocks?: SlackBlock[] }): string {
  const parts: string[] = [];
  if (msg.text) parts.push(msg.text);
  const walk = (node: Json): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node && typeof node === 'object') {
      if (typeof node.text === 'string') parts.push(node.text);
      for (const [key, value] of Object.entries(node)) if (key !== 'text' || typeof value !== 'string') walk(value);
    }
  };
  walk(msg.blocks ?? []);
  return parts.join('\n');
}

// ---- helpers ---------------------------------------------------------------------------------

function okReply(fields: Record<string, Json>): Reply {
  return { status: 200, body: { ok: true, ...fields } };
}

function platformError(error: string): Reply {
  return { status: 200, body: { ok: false, error } };
}

function hasContent(args: Record<string, Json>): boolean {
  return (
    (typeof args.text === 'string' && args.text !== '') ||
    (Array.isArray(args.blocks) && args.blocks.length > 0) ||
    (Array.isArray(args.attachments) && args.attachments.length > 0)
  );
}

function contentOf(args: Record<string, Json>): Omit<MessageVersion, 'at' | 'via'> {
  return {
    text: typeof args.text === 'string' ? args.text : '',
    blocks: Array.isArray(args.blocks) ? args.blocks : [],
    attachments: Array.isArray(args.attachments) ? args.attachments : [],
    ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
  };
}

async function parseArgs(raw: Buffer, contentType: string, fullContentType: string | undefined): Promise<Record<string, Json>> {
  const text = raw.toString('utf8');
  if (contentType === 'application/json') {
    if (text.trim() === '') return {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      return parsed as Record<string, Json>;
    } catch (err) {
      throw new Error(`json: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const out: Record<string, Json> = {};
  if (contentType === 'multipart/form-data') {
    // WebClient switches to multipart whenever an argument is a Buffer (file uploads).
    const form = await new Response(raw, { headers: { 'content-type': fullContentType ?? '' } }).formData();
    for (const [key, value] of form.entries()) {
      out[key] = typeof value === 'string' ? decodeField(key, value) : { file: value.name, size: value.size };
    }
    return out;
  }
  for (const [key, value] of new URLSearchParams(text)) out[key] = decodeField(key, value);
  return out;
}

/** WebClient JSON-encodes non-scalar arguments into form fields; turn them back into objects. */
function decodeField(key: string, value: string): Json {
  if (PLAIN_STRING_FIELDS.has(key)) return value;
  const first = value.trimStart()[0];
  if (first !== '[' && first !== '{') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function summarizeArgs(c: ApiCall): string {
  const a = c.args;
  const bits: string[] = [];
  for (const key of ['channel', 'ts', 'user', 'usergroup', 'response_type', 'replace_original']) {
    if (a[key] !== undefined) bits.push(`${key}=${String(a[key])}`);
  }
  if (c.responseId) bits.push(`id=${c.responseId}`);
  if (typeof a.text === 'string') bits.push(`text=${JSON.stringify(truncate(a.text, 80))}`);
  if (Array.isArray(a.blocks)) bits.push(`blocks=${a.blocks.length}`);
  return bits.join(' ');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function send(res: ServerResponse, reply: Reply): void {
  const isText = typeof reply.body === 'string';
  const payload = isText ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...reply.headers,
  });
  res.end(payload);
}


