/**
 * `startSandbox()`: the whole demo on one machine. Real redis-server and memcached, the Route 53,
 * Kubernetes and Slack stand-ins from test/support, HTTP version endpoints, and the real bot as
 * a child process configured only through its ordinary environment and strangler.yml: nothing
 * in the bot knows it is in a sandbox.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startKubernetesStandIn, type KubernetesStandIn } from '../test/support/kubernetes-stand-in.js';
import { Route53StandIn } from '../test/support/route53-stand-in.js';
import { startSlackStandIn, type SlackStandIn } from '../test/support/slack-stand-in.js';
import { SocketModeStandIn } from '../test/support/socket-mode-stand-in.js';
import { VersionEndpoints } from '../test/support/version-endpoints.js';
import { startErrorExporter, type ErrorExporter } from '../test/support/error-exporter.js';
import { ConsoleServer } from './console-server.js';
import { demoConfig, KUBERNETES_ERRORS, PEOPLE, RAMP_SERVICE, SERVICES, seedKubernetes, seedRoute53, seedVersions } from './demo.js';
import { type ChildHandle, requireBinaries, startBotProcess, startMemcached, startPrometheus, startRedis } from './processes.js';

export { SandboxProblem } from './processes.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BOT_TOKEN = 'xoxb-sandbox-not-a-real-token';
const APP_TOKEN = 'xapp-1-sandbox-not-a-real-token';

export interface SandboxOptions {
  /** Console port; 0 for any free one. Default: the first free port from 3000. */
  port?: number;
  /** Progress lines while starting (default: silent). */
  log?: (line: string) => void;
  /** Run the bot over Socket Mode (SLACK_APP_TOKEN) against a Socket Mode stand-in. */
  socketMode?: boolean;
}

export interface Sandbox {
  /** The console, e.g. http://localhost:3000/ */
  readonly url: string;
  /** Where the bot's, Redis's and memcached's output and the generated strangler.yml are. */
  readonly dir: string;
  readonly botCommand: string;
  /** How Slack reaches the bot: `HTTP` or `Socket Mode`. */
  readonly transport: string;
  /** The exporter Prometheus scrapes for the Kubernetes side of the ramp service (its /metrics). */
  readonly exporterUrl: string;
  readonly prometheusUrl: string;
  stop(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const log = opts.log ?? (() => undefined);
  requireBinaries();

  const dir = mkdtempSync(join(tmpdir(), 'strangler-sandbox-'));
  const children: ChildHandle[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  let consoleServer: ConsoleServer | undefined;
  let stopped = false;
  // On a forced exit the child processes are killed by their lifelines; the files go here.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await consoleServer?.close();
    // The bot first, so it can finish with Redis; then everything it talked to.
    const [bot, ...services] = [...children].reverse();
    await bot?.stop(8000);
    await Promise.allSettled([...services.map((c) => c.stop(3000)), ...closers.map((close) => close())]);
    process.off('exit', removeDir);
    removeDir();
  };

  try {
    log('starting redis-server, memcached and the stand-ins…');
    const [redis, memcached, r53, kube, slack, versions] = await Promise.all([
      startRedis(dir).then((c) => (children.push(c), c)),
      startMemcached(dir).then((c) => (children.push(c), c)),
      // Two PENDING answers to GetChange: "applying…" stays on screen long enough to be seen.
      Route53StandIn.start({ pendingPolls: 2 }).then((s) => (closers.push(() => s.close()), s)),
      startKubernetesStandIn().then((s) => (closers.push(() => s.close()), s)),
      startSlackStandIn({ token: BOT_TOKEN, users: PEOPLE.map((p) => ({ id: p.id, name: p.name.toLowerCase(), real_name: p.name })) }).then(
        (s) => (closers.push(() => s.close()), s),
      ),
      VersionEndpoints.start().then((s) => (closers.push(() => s.close()), s)),
    ]);
    const exporter: ErrorExporter = await startErrorExporter({
      service: RAMP_SERVICE,
      traffic: { requestsPerSecond: KUBERNETES_ERRORS.requestsPerSecond, errorRatio: KUBERNETES_ERRORS.healthy },
    });
    closers.push(() => exporter.close());
    log('starting prometheus…');
    const prometheus = await startPrometheus(dir, [exporter.target]);
    children.push(prometheus);
    const socket = opts.socketMode ? await SocketModeStandIn.start() : undefined;
    if (socket) {
      closers.push(() => socket.close());
      slack.socketMode = socket;
      slack.appToken = APP_TOKEN;
    }
    seedRoute53(r53);
    seedKubernetes(kube);
    const versionUrls = seedVersions(versions);
    const currentVersions = Object.fromEntries(SERVICES.map((s) => [s.name, { ...s.versions }]));

    const configFile = join(dir, 'strangler.yml');
    writeFileSync(
      configFile,
      `# Written by the sandbox (sandbox/demo.ts) for this run only.\n${stringify(demoConfig({ versionUrls, memcacheServers: memcached.servers, prometheusUrl: prometheus.url }))}`,
    );

    const signingSecret = randomBytes(16).toString('hex');
    log('starting the bot…');
    const bot = await startBotProcess({ repoRoot: REPO_ROOT, dir, env: { ...botEnv({ dir, configFile, signingSecret, redisUrl: redis.url, memcached: memcached.servers, r53, kube, slack }), ...(socket ? { SLACK_APP_TOKEN: APP_TOKEN } : {}) } });
    children.push(bot);
    log(`bot: ${bot.description}, listening on ${bot.url}`);

    consoleServer = new ConsoleServer({ slack, r53, kube, versions, currentVersions, botUrl: bot.url, signingSecret, exporter, ...(socket ? { socket } : {}) });
    const port = await consoleServer.listen(opts.port === undefined ? { scanFrom: 3000 } : { port: opts.port });
    return { url: `http://localhost:${port}/`, dir, botCommand: bot.description, transport: socket ? 'Socket Mode' : 'HTTP', exporterUrl: exporter.url, prometheusUrl: prometheus.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Exactly the variables a deployment would set, pointed at the stand-ins. */
function botEnv(o: {
  dir: string;
  configFile: string;
  signingSecret: string;
  redisUrl: string;
  memcached: string;
  r53: Route53StandIn;
  kube: KubernetesStandIn;
  slack: SlackStandIn;
}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: o.signingSecret,
    SLACK_API_URL: o.slack.apiUrl,
    REDIS_URL: o.redisUrl,
    STRANGLER_CONFIG: o.configFile,
    AWS_ENDPOINT_URL_ROUTE_53: o.r53.url,
    AWS_ACCESS_KEY_ID: 'AKIASANDBOXEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'sandbox-secret-access-key',
    AWS_REGION: 'us-east-1',
    // Nothing from a developer's ~/.aws may override the dummy credentials or the endpoint.
    AWS_CONFIG_FILE: join(o.dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(o.dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    KUBECONFIG: o.kube.kubeconfig(),
    MEMCACHE_SERVERS: o.memcached,
    // Seconds instead of minutes, so a change lands while you watch.
    STRANGLER_ROUTE53_POLL_MS: '400',
    STRANGLER_ROUTE53_SYNC_TIMEOUT_MS: '20000',
    STRANGLER_APPLY_BACKOFF_MS: '500',
    STRANGLER_SHUTDOWN_MS: '5000',
    // The out-of-band check every 3 s, so "Set 50/50 outside the bot" is alerted while you watch.
    STRANGLER_OUTSIDE_CHECK_EVERY_MS: '3000',
    // A ramp reads its gates every 2 s, so a failing Kubernetes side rolls it back while you watch.
    STRANGLER_RAMP_SAMPLE_MS: '2000',
    STRANGLER_GATE_READ_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'info',
  };
}
