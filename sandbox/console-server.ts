/**
 * The web console: serves sandbox/public/ and a small JSON API over the stand-ins.
 *
 * The console plays Slack's part towards the bot: a typed command becomes a signed slash-command
 * request, a click a signed block_actions request (or, in Socket Mode, the same payloads as
 * envelopes on the bot's WebSocket), each with a response_url on the Slack stand-in.
 * What the page shows is read back from the stand-ins, so it is exactly what the bot sent.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { KubernetesStandIn } from '../test/support/kubernetes-stand-in.js';
import type { Route53StandIn } from '../test/support/route53-stand-in.js';
import { blockActionPayload, postBlockAction, postSlashCommand, slashCommandFields, type BlockActionInput, type SlashCommandInput } from '../test/support/slack-requests.js';
import { sendAsHttp, type SocketModeStandIn } from '../test/support/socket-mode-stand-in.js';
import { appHomeOpenedEnvelope, homeButtonPayload, postAppHomeOpened, postHomeButton } from '../test/support/home-requests.js';
import type { SlackBlock, SlackStandIn, StoredMessage } from '../test/support/slack-stand-in.js';
import type { VersionEndpoints } from '../test/support/version-endpoints.js';
import type { ErrorExporter } from '../test/support/error-exporter.js';
import { CHANNELS, CRON_JOBS, KUBERNETES_ERRORS, PEOPLE, RAMP, RAMP_SERVICE, SERVICES, SET_IDS, ZONE_ID } from './demo.js';

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/mrkdwn.js': { file: 'mrkdwn.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
// Message text is rendered with textContent only; the policy is the second line of defence.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
const MAX_BODY = 64 * 1024;
const MAX_COMMAND = 4000;

export interface ConsoleDeps {
  slack: SlackStandIn;
  r53: Route53StandIn;
  kube: KubernetesStandIn;
  versions: VersionEndpoints;
  /** What each version endpoint answers now (VersionEndpoints does not say). */
  currentVersions: Record<string, { kubernetes: string; ec2: string }>;
  botUrl: string;
  signingSecret: string;
  /** Socket Mode: commands and clicks go to the bot as envelopes on its WebSocket instead. */
  socket?: SocketModeStandIn;
  /** The Kubernetes side of the ramp service, as Prometheus scrapes it; "Make Kubernetes fail" sets its errors. */
  exporter?: ErrorExporter;
}

/** A response_url the console handed out, so its posts can be shown to the right person. */
interface Handout {
  readonly responseId: string;
  readonly user: string;
  readonly channel: string;
  /** The command as typed, for slash commands; shown above the private answer. */
  readonly command?: string;
  ack?: { text: string; blocks: SlackBlock[]; at: number };
}

export interface PrivateItem {
  kind: 'private';
  at: number;
  text: string;
  blocks: SlackBlock[];
  command?: string;
}

export interface MessageItem {
  kind: 'message';
  ts: string;
  at: number;
  text: string;
  blocks: SlackBlock[];
  edited: boolean;
  replies: MessageItem[];
  /** Files shared with the message (the progress report's chart), served at /files/<id>. */
  files?: Array<{ id: string; title: string }>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ConsoleServer {
  private readonly server: Server;
  private readonly handouts: Handout[] = [];
  private seq = 0;

  constructor(private readonly deps: ConsoleDeps) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpProblem ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        if (!res.headersSent) sendJson(res, status, { ok: false, error: message });
        else res.end();
      });
    });
  }

  /** Listens on `port` exactly, or on the first free one from `scanFrom`. */
  async listen(opts: { port?: number; scanFrom?: number }): Promise<number> {
    if (opts.port !== undefined) return this.listenOn(opts.port);
    const first = opts.scanFrom ?? 3000;
    for (let port = first; port < first + 100; port += 1) {
      try {
        return await this.listenOn(port);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new Error(`no free port in ${first}–${first + 99}: set PORT`);
  }

  private listenOn(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page on another site could otherwise drive the console through DNS rebinding.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!['localhost', '127.0.0.1', '[::1]'].includes(host)) throw new HttpProblem(403, 'open the console as http://localhost:<port>/');

    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && STATIC[url.pathname]) return this.serveStatic(res, STATIC[url.pathname]!);
    if (req.method === 'GET' && url.pathname === '/api/state') return sendJson(res, 200, this.state(url.searchParams.get('as') ?? ''));
    const file = /^\/files\/(F[A-Z0-9]+)$/.exec(url.pathname);
    if (req.method === 'GET' && file) return this.serveUpload(res, file[1]!);
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      // JSON only: a cross-site form cannot send it without a CORS preflight, which is never granted.
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpProblem(415, 'send JSON');
      const body = await readJson(req);
      if (url.pathname === '/api/command') return sendJson(res, 200, await this.command(body));
      if (url.pathname === '/api/click') return sendJson(res, 200, await this.click(body));
      if (url.pathname === '/api/deploy') return sendJson(res, 200, this.deploy(body));
      if (url.pathname === '/api/home/open') return sendJson(res, 200, await this.openHome(body));
      if (url.pathname === '/api/home/click') return sendJson(res, 200, await this.clickHome(body));
      if (url.pathname === '/api/outside') return sendJson(res, 200, this.outside(body));
      if (url.pathname === '/api/kubernetes-errors') return sendJson(res, 200, this.kubernetesErrors(body));
    }
    throw new HttpProblem(404, 'not found');
  }

  private async serveStatic(res: ServerResponse, entry: { file: string; type: string }): Promise<void> {
    const content = await readFile(`${PUBLIC_DIR}${entry.file}`);
    res.writeHead(200, { 'content-type': entry.type, ...SECURITY_HEADERS });
    res.end(content);
  }

  // ---- what the page shows -------------------------------------------------------------------

  state(as: string) {
    const me = person(as);
    return {
      people: PEOPLE,
      bot: { id: this.deps.slack.botUserId, name: 'strangler' },
      channels: CHANNELS.map((c) => ({ ...c, items: this.timeline(c.id, me.id) })),
      services: SERVICES.map((s) => ({
        name: s.name,
        record: s.record,
        kubernetes: this.deps.r53.getRecord(ZONE_ID, s.record, 'A', SET_IDS.kubernetes)?.Weight ?? null,
        ec2: this.deps.r53.getRecord(ZONE_ID, s.record, 'A', SET_IDS.ec2)?.Weight ?? null,
      })),
      cronjobs: CRON_JOBS.map((j) => {
        const suspend = this.deps.kube.cronJob(j.namespace, j.name)?.spec?.suspend;
        return { name: j.name, object: `${j.namespace}/${j.name}`, schedule: j.schedule, lockKey: j.lockKey, suspend: typeof suspend === 'boolean' ? suspend : null };
      }),
      versions: SERVICES.map((s) => ({ service: s.name, ...this.deps.currentVersions[s.name]! })),
      home: this.home(me.id),
      kubernetesErrors: this.kubernetesErrorState(),
    };
  }

  // ---- App Home and uploaded files -----------------------------------------------------------

  /** The Home view the bot last published for `user` (views.publish on the stand-in). */
  private home(user: string): { at: number; blocks: SlackBlock[] } | null {
    const last = this.deps.slack.publishedViews(user).at(-1);
    return last ? { at: last.at, blocks: Array.isArray(last.view?.blocks) ? last.view.blocks : [] } : null;
  }

  /** Opening the Home tab: Slack sends app_home_opened (an Events API request, or an envelope). */
  private async openHome(body: Record<string, unknown>) {
    const me = person(body.as);
    const { socket } = this.deps;
    const result = socket ? await sendAsHttp(socket, 'events_api', appHomeOpenedEnvelope(me.id)) : await postAppHomeOpened(this.deps.botUrl, this.deps.signingSecret, me.id);
    if (result.status !== 200) throw new HttpProblem(502, `the bot answered HTTP ${result.status}: ${result.body.slice(0, 200)}`);
    return { ok: true };
  }

  /** A button in the Home view: block_actions whose container is the view. */
  private async clickHome(body: Record<string, unknown>) {
    const me = person(body.as);
    const view = this.home(me.id);
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    if (!view || !findButton(view.blocks, actionId)) throw new HttpProblem(409, 'that button is no longer in the Home view');
    const { socket } = this.deps;
    const result = socket
      ? await sendAsHttp(socket, 'interactive', homeButtonPayload(me.id, view, actionId))
      : await postHomeButton(this.deps.botUrl, this.deps.signingSecret, me.id, view, actionId);
    if (result.status !== 200) throw new HttpProblem(502, `the bot answered HTTP ${result.status}: ${result.body.slice(0, 200)}`);
    return { ok: true };
  }

  /** A file the bot uploaded (the progress report's chart), exactly as the stand-in received it. */
  private serveUpload(res: ServerResponse, id: string): void {
    const upload = this.deps.slack.uploads.find((u) => u.id === id && u.completed);
    if (!upload?.bytes) throw new HttpProblem(404, 'no such file');
    const type = upload.filename.endsWith('.png') ? 'image/png' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, ...SECURITY_HEADERS });
    res.end(upload.bytes);
  }

  private kubernetesErrorState() {
    const { exporter } = this.deps;
    if (!exporter) return null;
    const { errorRatio } = exporter.traffic;
    return { service: RAMP_SERVICE, errorRatio, failing: errorRatio >= KUBERNETES_ERRORS.failing, gate: { name: RAMP.gateName, max: RAMP.max } };
  }

  /** The channel as `user` sees it: everyone's messages plus the private answers meant for them. */
  private timeline(channel: string, user: string): Array<MessageItem | PrivateItem> {
    const all = this.deps.slack.messages(channel);
    const replies = all.filter((m) => m.thread_ts && m.thread_ts !== m.ts);
    const items: Array<MessageItem | PrivateItem> = all
      .filter((m) => !m.thread_ts || m.thread_ts === m.ts)
      .map((m) => ({ ...messageItem(m), replies: replies.filter((r) => r.thread_ts === m.ts).map(messageItem) }));

    for (const h of this.handouts) {
      if (h.user !== user || h.channel !== channel) continue;
      const command = h.command === undefined ? {} : { command: h.command };
      if (h.ack) items.push({ kind: 'private', at: h.ack.at, text: h.ack.text, blocks: h.ack.blocks, ...command });
      for (const post of this.deps.slack.responses(h.responseId)) {
        // Posts that replaced or added channel messages already show up as those messages.
        if (post.status !== 200 || post.replace_original || post.delete_original || post.response_type === 'in_channel') continue;
        items.push({ kind: 'private', at: post.at, text: post.text ?? '', blocks: post.blocks ?? [], ...command });
      }
    }
    for (const e of this.deps.slack.ephemerals(user)) {
      if (e.channel === channel && e.via === 'chat.postEphemeral') items.push({ kind: 'private', at: e.at, text: e.text, blocks: e.blocks });
    }
    return items.sort((a, b) => a.at - b.at);
  }

  // ---- what the page does --------------------------------------------------------------------

  private async command(body: Record<string, unknown>) {
    const me = person(body.as);
    const channel = knownChannel(body.channel);
    const typed = typeof body.text === 'string' ? body.text.trim() : '';
    const m = /^\/strangle(?:\s+([\s\S]*))?$/.exec(typed);
    if (!m) throw new HttpProblem(400, 'Only /strangle commands go to the bot here, e.g. /strangle help');
    if (typed.length > MAX_COMMAND) throw new HttpProblem(400, `Commands are at most ${MAX_COMMAND} characters`);

    const handout: Handout = { responseId: `cmd-${++this.seq}`, user: me.id, channel: channel.id, command: typed };
    this.handouts.push(handout);
    const input: SlashCommandInput = {
      text: m[1] ?? '',
      userId: me.id,
      userName: me.name.toLowerCase(),
      channelId: channel.id,
      channelName: channel.name,
      responseUrl: this.deps.slack.responseUrl(handout.responseId, { channel: channel.id, user: me.id }),
    };
    const { socket } = this.deps;
    const result = socket ? await sendAsHttp(socket, 'slash_commands', slashCommandFields(input)) : await postSlashCommand(this.deps.botUrl, this.deps.signingSecret, input);
    if (result.status !== 200) throw new HttpProblem(502, `the bot answered HTTP ${result.status}: ${result.body.slice(0, 200)}`);
    // Slack shows an ack that carries a message as a private answer, like a response_url post.
    if (result.body.trim()) {
      const ack = result.json<{ text?: string; blocks?: SlackBlock[] }>();
      handout.ack = { text: ack.text ?? '', blocks: ack.blocks ?? [], at: Date.now() };
    }
    return { ok: true };
  }

  private async click(body: Record<string, unknown>) {
    const me = person(body.as);
    const channel = knownChannel(body.channel);
    const ts = typeof body.ts === 'string' ? body.ts : '';
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const message = this.deps.slack.message(channel.id, ts);
    if (!message) throw new HttpProblem(404, 'that message is gone');
    const button = findButton(message.blocks, actionId);
    // The page may show a button a moment after the bot replaced it, as Slack can.
    if (!button) throw new HttpProblem(409, 'that button is no longer on the message');

    const handout: Handout = { responseId: `click-${++this.seq}`, user: me.id, channel: channel.id };
    this.handouts.push(handout);
    const input: BlockActionInput = {
      userId: me.id,
      userName: me.name.toLowerCase(),
      channelId: channel.id,
      channelName: channel.name,
      messageTs: message.ts,
      actionId,
      value: button.value,
      responseUrl: this.deps.slack.responseUrl(handout.responseId, { channel: channel.id, ts: message.ts, user: me.id }),
      message: { text: message.text, blocks: message.blocks, user: message.user, bot_id: message.bot_id, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) },
    };
    const { socket } = this.deps;
    const result = socket ? await sendAsHttp(socket, 'interactive', blockActionPayload(input)) : await postBlockAction(this.deps.botUrl, this.deps.signingSecret, input);
    if (result.status !== 200) throw new HttpProblem(502, `the bot answered HTTP ${result.status}: ${result.body.slice(0, 200)}`);
    return { ok: true };
  }

  private outside(body: Record<string, unknown>) {
    return { ok: true, weights: setWeightsOutside(this.deps.r53, body.service) };
  }

  /** "Make Kubernetes fail" / "Heal Kubernetes": the error rate the exporter reports from now on. */
  private kubernetesErrors(body: Record<string, unknown>) {
    const { exporter } = this.deps;
    if (!exporter) throw new HttpProblem(404, 'this sandbox runs no Kubernetes exporter');
    if (typeof body.failing !== 'boolean') throw new HttpProblem(400, 'say whether Kubernetes should fail: {"failing": true} or {"failing": false}');
    exporter.setTraffic({ errorRatio: body.failing ? KUBERNETES_ERRORS.failing : KUBERNETES_ERRORS.healthy });
    return { ok: true, ...this.kubernetesErrorState() };
  }

  /** Plays a deploy: one platform gets the other's commit (ends drift) or a new one (starts it). */
  private deploy(body: Record<string, unknown>) {
    const service = typeof body.service === 'string' ? body.service : '';
    const platform = body.platform === 'kubernetes' || body.platform === 'ec2' ? body.platform : undefined;
    const current = this.deps.currentVersions[service];
    if (!current || !platform) throw new HttpProblem(400, 'unknown service or platform');
    const other = platform === 'kubernetes' ? current.ec2 : current.kubernetes;
    const version = current[platform] === other ? Math.floor(Math.random() * 0xfffffff).toString(16).padStart(7, '0') : other;
    current[platform] = version;
    this.deps.versions.set(`/${platform}/${service}`, version);
    return { ok: true, version };
  }
}

/**
 * What someone editing the weights in the Route 53 console does: both records of a service's pair
 * set to 50/50 behind the bot's back. The bot's out-of-band check alerts in the alert channel.
 */
export function setWeightsOutside(r53: Route53StandIn, service: unknown): { kubernetes: number; ec2: number } {
  const s = SERVICES.find((x) => x.name === service);
  if (!s) throw new HttpProblem(400, 'unknown service');
  r53.setWeight(ZONE_ID, s.record, 'A', SET_IDS.kubernetes, 50);
  r53.setWeight(ZONE_ID, s.record, 'A', SET_IDS.ec2, 50);
  return { kubernetes: 50, ec2: 50 };
}

function person(id: unknown) {
  const p = PEOPLE.find((x) => x.id === id);
  if (!p) throw new HttpProblem(400, 'pick who you are: Alice, Bob or Carol');
  return p;
}

function knownChannel(id: unknown) {
  const c = CHANNELS.find((x) => x.id === id);
  if (!c) throw new HttpProblem(400, 'unknown channel');
  return c;
}

function messageItem(m: StoredMessage): MessageItem {
  const files = (m as { files?: Array<{ id: string; title?: string; name?: string }> }).files;
  return {
    kind: 'message',
    ts: m.ts,
    at: m.versions[0]?.at ?? 0,
    text: m.text,
    blocks: m.blocks,
    edited: m.versions.length > 1,
    replies: [],
    ...(files?.length ? { files: files.map((f) => ({ id: f.id, title: f.title ?? f.name ?? f.id })) } : {}),
  };
}

function findButton(blocks: SlackBlock[], actionId: string): { value: string } | undefined {
  for (const b of blocks) {
    const elements: Array<Record<string, unknown>> = Array.isArray(b.elements) ? b.elements : b.accessory ? [b.accessory] : [];
    const el = elements.find((e) => e.type === 'button' && e.action_id === actionId);
    if (el) return { value: typeof el.value === 'string' ? el.value : '' };
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpProblem(413, 'request too large');
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpProblem(400, 'send a JSON object');
}
