/** Bolt and the Web API client log through pino too, so every line is JSON and redacted. */
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../log.js';

/** The Slack libraries' own debug lines can quote request bodies; tokens never pass. */
export function scrub(parts: readonly unknown[]): string {
  return parts
    .map(String)
    .join(' ')
    .replace(/xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+/g, '[redacted token]');
}

export function slackLogger(log: Logger, component: string): SlackLogger {
  let level = LogLevel.INFO;
  const l = log.child({ component });
  return {
    debug: (...m: unknown[]) => l.debug(scrub(m)),
    info: (...m: unknown[]) => l.info(scrub(m)),
    warn: (...m: unknown[]) => l.warn(scrub(m)),
    error: (...m: unknown[]) => l.error(scrub(m)),
    setLevel: (v: LogLevel) => {
      level = v;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
