#!/usr/bin/env node
/**
 * `strangler` (dist/cli.mjs, package.json "bin"): the tandem-deploy gate for CI.
 * Bad input never ends in a stack trace, and the token is never printed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCli, readTarget, USAGE, UsageError } from './args.js';
import { waitForVersion } from './wait-for-version.js';

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const cmd = parseCli(argv);
  if (cmd.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const target = readTarget(env, cmd.options.service);
  return waitForVersion(cmd.options, target, {
    fetch,
    now: Date.now,
    sleep: (ms) => sleep(ms),
    err: (line) => process.stderr.write(`${line}\n`),
    out: (line) => process.stdout.write(`${line}\n`),
  });
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`strangler: ${err.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`strangler: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
