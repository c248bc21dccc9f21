/**
 * Structured JSON logs (pino). Secrets never reach a log line: the redact list covers every
 * place a token, signing secret or AWS credential could ride along in an object we log.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  return pino({
    level: env.LOG_LEVEL ?? 'info',
    base: { app: 'strangler' },
    redact: {
      paths: [
        '*.token', '*.botToken', '*.appToken', '*.signingSecret', '*.authorization', '*.Authorization',
        '*.headers.authorization', '*.headers["x-slack-signature"]', '*.accessKeyId', '*.secretAccessKey', '*.sessionToken',
        'token', 'signingSecret', 'authorization',
      ],
      censor: '[redacted]',
    },
  });
}

/** For tests and benchmarks that want silence. */
export const silentLogger: Logger = pino({ level: 'silent' });
