/**
 * Everything an end-to-end test needs: a real redis-server, the Route 53 and Slack stand-ins,
 * and the real bot (Bolt HTTP endpoint + BullMQ worker) pointed at them the way a user would
 * point it anywhere: AWS_ENDPOINT_URL_ROUTE_53, SLACK_API_URL-style options and a config.
 */
import { startBot, type Role, type RunningBot } from '../../src/bot.js';
import type { RedisSettings } from '../../src/redis-connection.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { readTuning } from '../../src/config/tuning.js';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { type KubernetesStandIn, startKubernetesStandIn } from './kubernetes-stand-in.js';
import { startMemcachedServer } from './memcached-server.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { Route53StandIn, type StandInRecord } from './route53-stand-in.js';
import { blockActionPayload, type BlockActionInput, postBlockAction, postSlashCommand, type SendOptions, slashCommandFields, type SlackHttpResult, type SlashCommandInput } from './slack-requests.js';
import { sendAsHttp, SocketModeStandIn } from './socket-mode-stand-in.js';
import { type SlackStandIn, type StoredMessage, startSlackStandIn, renderedText } from './slack-stand-in.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-token';
export const APP_TOKEN = 'xapp-1-A0STRANGLER-test';
export const ZONE = 'Z0123456789ABC';
export const APPROVALS = 'C0APPROVALS';
export const OPS = 'C0OPS';
export const ALICE = 'U0ALICE'; // requester, not an approver
export const BOB = 'U0BOB'; // approver
export const CAROL = 'U0CAROL'; // approver
export const MALLORY = 'U0MALLORY'; // neither

export const TEST_TUNING_ENV = {
  STRANGLER_ROUTE53_POLL_MS: '50',
  STRANGLER_ROUTE53_SYNC_TIMEOUT_MS: '10000',
  STRANGLER_JOB_LOCK_MS: '2000',
  STRANGLER_APPLY_BACKOFF_MS: '200',
  STRANGLER_SWEEP_EVERY_MS: '60000',
  // Off unless a test turns it on: its background listings would land among the Route 53 calls
  // other tests count or hold (test/e2e/outside-change.test.ts turns it on).
  STRANGLER_OUTSIDE_CHECK_EVERY_MS: '0',
};

export function baseConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    slack: { approvalChannel: APPROVALS, approvers: [BOB, CAROL], requesters: [], approvalTimeoutMinutes: 30 },
    services: {
      api: {
        route53: { hostedZoneId: ZONE, recordName: 'api.example.com', recordType: 'A', kubernetesSetIdentifier: 'primary', ec2SetIdentifier: 'secondary' },
        maxStep: 25,
      },
      web: {
        route53: { hostedZoneId: ZONE, recordName: 'web.example.com', recordType: 'CNAME', kubernetesSetIdentifier: 'k8s', ec2SetIdentifier: 'ec2' },
        maxStep: 100,
      },
    },
    ...overrides,
  };
}

export function aliasRecord(name: string, setIdentifier: string, weight: number, lb: string): StandInRecord {
  return {
    Name: `${name}.`,
    Type: 'A',
    SetIdentifier: setIdentifier,
    Weight: weight,
    AliasTarget: { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: `${lb}.`, EvaluateTargetHealth: true },
  };
}

export function cnameRecord(name: string, setIdentifier: string, weight: number, target: string): StandInRecord {
  return { Name: `${name}.`, Type: 'CNAME', SetIdentifier: setIdentifier, Weight: weight, TTL: 60, ResourceRecords: [{ Value: target }] };
}

export interface HarnessOptions {
  config?: Record<string, unknown>;
  roles?: Role[];
  env?: Record<string, string>;
  /** Also start the Kubernetes stand-in (KUBECONFIG) and a real memcached (MEMCACHE_SERVERS). */
  kubernetes?: boolean;
  /** Start only the outside world; the test runs bots itself (e.g. as child processes). */
  noBot?: boolean;
  /**
   * Slack over Socket Mode: the bot gets an app token and opens a WebSocket to the Socket Mode
   * stand-in; `command` and `click` send envelopes on it instead of signed HTTP requests.
   */
  socketMode?: boolean;
  /** Where the bot's Redis is, when not the harness's own redis-server (TLS, Sentinel). */
  redis?: RedisSettings | string;
  /** STRANGLER_API_TOKENS: turns the HTTP API on. */
  apiTokens?: string[];
  /** The bot's logger (silent unless a test reads the log). */
  log?: Logger;
}

type MemcachedServer = Awaited<ReturnType<typeof startMemcachedServer>>;

export class BotHarness {
  bot!: RunningBot;
  config!: Config;
  kube?: KubernetesStandIn;
  memcached?: MemcachedServer;
  socket?: SocketModeStandIn;
  private responseSeq = 0;

  private constructor(
    readonly redis: RedisServer,
    readonly r53: Route53StandIn,
    readonly slack: SlackStandIn,
    private readonly opts: HarnessOptions,
  ) {}

  static async start(opts: HarnessOptions = {}): Promise<BotHarness> {
    const [redis, r53, slack] = await Promise.all([startRedisServer(), Route53StandIn.start({ pendingPolls: 2 }), startSlackStandIn()]);
    r53.addZone(ZONE, 'example.com.');
    r53.putRecord(ZONE, aliasRecord('api.example.com', 'primary', 10, 'k8s-lb.elb.amazonaws.com'));
    r53.putRecord(ZONE, aliasRecord('api.example.com', 'secondary', 90, 'ec2-lb.elb.amazonaws.com'));
    r53.putRecord(ZONE, cnameRecord('web.example.com', 'k8s', 0, 'k8s-lb.example.net'));
    r53.putRecord(ZONE, cnameRecord('web.example.com', 'ec2', 100, 'ec2-lb.example.net'));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ROUTE_53: r53.url,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_REGION: 'us-east-1',
    });
    const h = new BotHarness(redis, r53, slack, opts);
    if (opts.kubernetes) {
      [h.kube, h.memcached] = await Promise.all([startKubernetesStandIn(), startMemcachedServer()]);
      process.env.KUBECONFIG = h.kube.kubeconfig();
      process.env.MEMCACHE_SERVERS = h.memcached.servers;
    }
    if (opts.socketMode) {
      h.socket = await SocketModeStandIn.start();
      slack.socketMode = h.socket;
      slack.appToken = APP_TOKEN;
    }
    h.config = parseConfig(opts.config ?? baseConfig(), 'test config');
    if (!opts.noBot) await h.startBot();
    return h;
  }

  /** Where commands and clicks are sent; defaults to the in-process bot. */
  endpoint: string | undefined;

  get baseUrl(): string {
    return this.endpoint ?? `http://127.0.0.1:${this.bot.port}`;
  }

  /** The env a bot process needs to reach this world, as an operator would set it. */
  processEnv(configPath: string): Record<string, string> {
    return {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.slack.apiUrl,
      REDIS_URL: this.redis.url,
      STRANGLER_CONFIG: configPath,
      AWS_ENDPOINT_URL_ROUTE_53: this.r53.url,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret-access-key',
      AWS_REGION: 'us-east-1',
      ...TEST_TUNING_ENV,
      ...this.opts.env,
    };
  }

  async startBot(): Promise<void> {
    this.bot = await startBot({
      config: this.config,
      tuning: readTuning({ ...TEST_TUNING_ENV, ...this.opts.env }),
      roles: this.opts.roles ?? ['web', 'worker'],
      redis: this.opts.redis ?? this.redis.url,
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: this.slack.apiUrl, ...(this.socket ? { appToken: APP_TOKEN } : {}) },
      port: 0,
      log: this.opts.log ?? silentLogger,
      ...(this.opts.apiTokens ? { apiTokens: this.opts.apiTokens } : {}),
    });
  }

  /** Stops the bot (gracefully, or as a crash with `force`) and starts a fresh one on the same Redis. */
  async restartBot(opts: { force?: boolean } = {}): Promise<void> {
    await this.bot.stop(opts);
    await this.startBot();
  }

  /** Types `/strangle <text>`; returns the HTTP answer and the id of its response_url. */
  async command(user: string, text: string, opts: SendOptions & { channel?: string } = {}): Promise<{ http: SlackHttpResult; responseId: string }> {
    const responseId = `cmd-${++this.responseSeq}`;
    const input: SlashCommandInput = { text, userId: user, channelId: opts.channel ?? OPS, responseUrl: this.slack.responseUrl(responseId) };
    const http = this.socket ? await sendAsHttp(this.socket, 'slash_commands', slashCommandFields(input)) : await postSlashCommand(this.baseUrl, SIGNING_SECRET, input, opts);
    return { http, responseId };
  }

  /** The private answer a command got, from its ack body or its response_url post. */
  async reply(cmd: { http: SlackHttpResult; responseId: string }, timeoutMs = 5000): Promise<string> {
    if (cmd.http.body.trim()) {
      const body = cmd.http.json<{ text?: string; blocks?: never[] }>();
      return renderedText(body);
    }
    const post = await this.slack.waitFor(() => this.slack.responses(cmd.responseId)[0], timeoutMs, `reply to ${cmd.responseId}`);
    return renderedText(post.body);
  }

  /** `command` then `reply`. */
  async ask(user: string, text: string, opts: { channel?: string } = {}, timeoutMs = 5000): Promise<string> {
    return this.reply(await this.command(user, text, opts), timeoutMs);
  }

  async click(user: string, message: StoredMessage, actionId: string, opts: SendOptions = {}): Promise<SlackHttpResult> {
    const button = findButton(message, actionId);
    if (!button) throw new Error(`no ${actionId} button on message ${message.ts}: ${renderedText(message)}`);
    const input: BlockActionInput = {
      userId: user,
      channelId: message.channel,
      messageTs: message.ts,
      actionId,
      value: String(button.value),
      responseUrl: this.slack.responseUrl(`click-${++this.responseSeq}`),
      message: { text: message.text, blocks: message.blocks },
    };
    return this.socket ? sendAsHttp(this.socket, 'interactive', blockActionPayload(input)) : postBlockAction(this.baseUrl, SIGNING_SECRET, input, opts);
  }


  /** The approval message of request #id, as it stands now in the approval channel. */
  approvalMessage(id: number, channel = APPROVALS): StoredMessage | undefined {
    // The newest: request numbers start again when a test wipes Redis.
    return this.slack.messages(channel).findLast((m) => !m.thread_ts && renderedText(m).includes(`Request #${id} `));
  }

  async waitForApproval(id: number, includes: string, timeoutMs = 8000, channel = APPROVALS): Promise<StoredMessage> {
    return this.slack.waitFor(
      () => {
        const m = this.approvalMessage(id, channel);
        return m && renderedText(m).includes(includes) ? m : undefined;
      },
      timeoutMs,
      `request #${id} message to include "${includes}"`,
    );
  }

  weights(name: string): { kubernetes: number | undefined; ec2: number | undefined } {
    const [k, e] = name === 'api' ? ['primary', 'secondary'] : ['k8s', 'ec2'];
    const type = name === 'api' ? 'A' : 'CNAME';
    return {
      kubernetes: this.r53.getRecord(ZONE, `${name}.example.com`, type, k)?.Weight,
      ec2: this.r53.getRecord(ZONE, `${name}.example.com`, type, e)?.Weight,
    };
  }

  async close(): Promise<void> {
    await this.bot?.stop({ force: true }).catch(() => undefined);
    await Promise.allSettled([this.redis.stop(), this.r53.close(), this.slack.close(), this.kube?.close(), this.memcached?.stop(), this.socket?.close()]);
  }
}

export function findButton(message: { blocks: Array<Record<string, unknown>> }, actionId: string): { value: string; text: string } | undefined {
  for (const b of message.blocks) {
    const elements = (b.elements ?? []) as Array<{ action_id?: string; value?: string; text?: { text?: string } }>;
    const el = elements.find((e) => e.action_id === actionId);
    if (el) return { value: el.value ?? '', text: el.text?.text ?? '' };
  }
  return undefined;
}

export function buttonLabels(message: { blocks: Array<Record<string, unknown>> }): string[] {
  return message.blocks.flatMap((b) => ((b.elements ?? []) as Array<{ type?: string; text?: { text?: string } }>).filter((e) => e.type === 'button').map((e) => e.text?.text ?? ''));
}

export type { ChangeRequest };
