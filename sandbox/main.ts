/**
 * `npm run sandbox [-- --socket-mode]`: the bot, its stand-ins and the web console, until Ctrl-C.
 */
import { SandboxProblem, startSandbox } from './sandbox.js';

function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SandboxProblem(`PORT must be a port number, got "${raw}"`);
  return port;
}

function parseArgs(argv: readonly string[]): { socketMode: boolean } {
  const unknown = argv.filter((a) => a !== '--socket-mode');
  if (unknown.length > 0) throw new SandboxProblem(`unknown option ${unknown.map((a) => `"${a}"`).join(', ')}: the one option is --socket-mode`);
  return { socketMode: argv.includes('--socket-mode') };
}

async function main(): Promise<void> {
  const started = Date.now();
  const { socketMode } = parseArgs(process.argv.slice(2));
  const sandbox = await startSandbox({ port: parsePort(process.env.PORT), socketMode, log: (line) => console.log(`  ${line}`) });
  console.log(
    [
      '',
      `strangler sandbox is up (${((Date.now() - started) / 1000).toFixed(1)} s): open ${sandbox.url}`,
      `  Slack reaches the bot over ${sandbox.transport}${socketMode ? ' (SLACK_APP_TOKEN set; the bot opened a WebSocket to the stand-in)' : ''}.`,
      '',
      '  Try, as Alice: /strangle api 30   then switch to Bob and click Approve.',
      '  Or a ramp: /strangle api ramp, approve it as Bob, then click "Make Kubernetes fail" and watch it roll back.',
      `  Logs and the generated strangler.yml: ${sandbox.dir}`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  let stoppingSince = 0;
  const shutdown = (signal: string) => {
    if (stoppingSince) {
      // npm and tsx relay the terminal's Ctrl-C, so one press arrives two or three times.
      if (Date.now() - stoppingSince < 1500) return;
      // A later press: the exit hook SIGKILLs whatever is still running.
      console.log('stopping now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping the bot, redis-server, memcached, prometheus and the stand-ins…`);
    sandbox.stop().then(
      () => {
        console.log('stopped.');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`could not stop cleanly: ${(err as Error)?.message ?? err}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
}

main().catch((err: unknown) => {
  const message = err instanceof SandboxProblem ? err.message : (err as Error)?.stack ?? String(err);
  console.error(`\nthe sandbox cannot start: ${message}`);
  process.exit(1);
});
