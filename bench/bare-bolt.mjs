// The floor every bench figure is divided by: a Bolt app that only acks `/strangle`, plus the
// /readyz route a spawn-to-ready measurement needs. Plain JavaScript run by `node`, as the bot's
// dist/main.js is, with the same Bolt version and the same Slack stand-in (SLACK_API_URL).
import { App, LogLevel } from '@slack/bolt';

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  clientOptions: process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {},
  logLevel: LogLevel.ERROR,
  customRoutes: [{ path: '/readyz', method: ['GET'], handler: (_req, res) => res.writeHead(200).end('ready') }],
});
app.command('/strangle', async ({ ack }) => {
  await ack();
});
await app.start(Number(process.env.PORT ?? 3000));
process.once('SIGTERM', () => app.stop().then(() => process.exit(0)));
