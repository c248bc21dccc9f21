/**
 * `node dist/main.js [web|worker]` (or STRANGLER_ROLE): both roles when none is given.
 * Everything a person could get wrong at start-up (config, env, Redis) ends here as a plain
 * message on stderr and exit code 1, never a stack trace.
 */
import { startBot, type Role } from './bot.js';
import { loadConfig } from './config/load-config.js';
import { readTuning } from './config/tuning.js';
import { StranglerError } from './core/errors.js';
import { createLogger } from './log.js';
import { readRedisSettings } from './redis-connection.js';
import { parseApiTokens } from './web/api-tokens.js';

const ROLES: Record<string, Role[]> = { web: ['web'], worker: ['worker'], all: ['web', 'worker'] };

class StartupProblem extends Error {}

function required(env: NodeJS.ProcessEnv, name: string, why: string): string {
  const v = env[name];
  if (!v) throw new StartupProblem(`${name} is not set: ${why}`);
  return v;
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const roleName = argv[2] ?? env.STRANGLER_ROLE ?? 'all';
  const roles = ROLES[roleName];
  if (!roles) throw new StartupProblem(`unknown role "${roleName}": use web, worker or all (the default)`);

  const configPath = env.STRANGLER_CONFIG ?? './strangler.yml';
  const config = await loadConfig(configPath, env);
  const tuning = readTuning(env);
  const apiTokens = parseApiTokens(env.STRANGLER_API_TOKENS);
  const botToken = required(env, 'SLACK_BOT_TOKEN', 'set it to the app’s Bot User OAuth Token (xoxb-…)');
  const appToken = env.SLACK_APP_TOKEN || undefined;
  if (appToken !== undefined && !appToken.startsWith('xapp-')) {
    throw new StartupProblem(
      'SLACK_APP_TOKEN must be an app-level token (xapp-…, Basic Information → App-Level Tokens, with connections:write); unset it to receive Slack over HTTP instead',
    );
  }
  // Socket Mode needs no signing secret: Slack's requests come over the bot's own WebSocket.
  const signingSecret =
    roles.includes('web') && !appToken ? required(env, 'SLACK_SIGNING_SECRET', 'set it to the app’s Signing Secret (Basic Information page)') : (env.SLACK_SIGNING_SECRET ?? '');
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StartupProblem(`PORT must be a port number, got "${env.PORT}"`);

  const log = createLogger(env);
  const bot = await startBot({
    config,
    tuning,
    roles,
    redis: readRedisSettings(env),
    slack: { botToken, signingSecret, appToken, apiUrl: env.SLACK_API_URL || undefined },
    port,
    log,
    apiTokens,
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing work in flight');
    // Bounded: Kubernetes sends SIGKILL after its grace period anyway; another replica resumes.
    const hardStop = setTimeout(() => process.exit(1), tuning.shutdownMs);
    hardStop.unref();
    bot.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** A port the HTTP server could not take, said as what to do about it. */
function listenProblem(err: unknown): string | undefined {
  const e = err as { code?: unknown; port?: unknown; syscall?: unknown };
  if (e?.syscall !== 'listen') return undefined;
  if (e.code === 'EADDRINUSE') return `port ${String(e.port)} is already in use by another process (EADDRINUSE): stop that process or set PORT to a free port`;
  if (e.code === 'EACCES') return `port ${String(e.port)} needs privileges this user lacks (EACCES): set PORT to 1024 or above`;
  return undefined;
}

main(process.argv, process.env).catch((err: unknown) => {
  const message =
    err instanceof StranglerError
      ? `${err.message}${err.hint && !err.message.includes(err.hint) ? ` ${err.hint}` : ''}`
      : err instanceof StartupProblem
        ? err.message
        : (listenProblem(err) ?? `unexpected error: ${(err as Error)?.message ?? err}`);
  process.stderr.write(`strangler cannot start: ${message}\n`);
  process.exit(1);
});
