/**
 * Proves the test doubles speak the real wire protocol: the Slack stand-in is driven by the real
 * @slack/web-api WebClient (the one Bolt uses) and by a real Bolt App, the signed-request helpers are
 * accepted by Bolt's own verification, and the redis/memcached helpers run real servers.
 */
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { ErrorCode, LogLevel as WebLogLevel, WebClient, WebClientEvent, type WebAPIHTTPError, type WebAPIPlatformError } from '@slack/web-api';
import { Redis } from 'ioredis';
import memjs from 'memjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { startMemcachedServer } from '../support/memcached-server.js';
import { startRedisServer } from '../support/redis-server.js';
import { postBlockAction, postSlackRaw, postSlashCommand, signSlackRequest } from '../support/slack-requests.js';
import { renderedText, startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in.js';

const TOKEN = 'xoxb-test-token';
const C = 'C0OPS';
// Backoff between retries is p-retry's business, not Slack's: zero it so elapsed time measures Retry-After.
const fastRetries = { retries: 3, minTimeout: 0, maxTimeout: 1 };

const sectionBlocks = (text: string) => [
  { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text } },
  {
    type: 'actions',
    block_id: 'decide',
    elements: [
      { type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'cr-1', style: 'primary' },
    ],
  },
];

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('Slack stand-in, driven by the real WebClient', () => {
  let slack: SlackStandIn;
  let client: WebClient;

  beforeAll(async () => {
    slack = await startSlackStandIn({ usergroups: { S0ONCALL: ['U1', 'U2'] }, users: [{ id: 'U1', name: 'alice', tz: 'Europe/Paris' }] });
    client = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: fastRetries, logLevel: WebLogLevel.ERROR });
  });
  afterEach(() => slack.reset());
  afterAll(() => slack.close());

  it('answers auth.test with the bot identity Bolt needs', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: slack.botUserId, bot_id: slack.botId, team_id: slack.teamId });
    expect(slack.calls[0]).toMatchObject({ method: 'auth.test', token: TOKEN, ok: true, status: 200 });
  });

  it('stores a posted message with its blocks, then replaces them on chat.update', async () => {
    const posted = await client.chat.postMessage({ channel: C, text: 'Shift checkout 10%?', blocks: sectionBlocks('*checkout* 0% → 10%') });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe(C);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    const ts = posted.ts!;

    // The client sends a form body with blocks as a JSON string; the stand-in must decode it.
    const call = slack.callsTo('chat.postMessage')[0]!;
    expect(call.contentType).toBe('application/x-www-form-urlencoded');
    expect(call.rawBody).toContain('blocks=%5B%7B%22type%22');
    expect(call.args.blocks).toEqual(sectionBlocks('*checkout* 0% → 10%'));

    const second = await client.chat.postMessage({ channel: C, text: 'another' });
    expect(second.ts! > ts).toBe(true);

    const updated = await client.chat.update({ channel: C, ts, text: 'Approved by alice', blocks: sectionBlocks('*checkout* now at 10%') });
    expect(updated).toMatchObject({ ok: true, channel: C, ts });

    const msg = slack.message(C, ts)!;
    expect(msg.text).toBe('Approved by alice');
    expect(renderedText(msg)).toContain('now at 10%');
    expect(msg.versions.map((v) => v.via)).toEqual(['chat.postMessage', 'chat.update']);
    expect(renderedText(msg.versions[0]!)).toContain('0% → 10%');
    expect(slack.messages(C).map((m) => m.ts)).toEqual([ts, second.ts]);
    expect(slack.lastMessage(C)?.ts).toBe(second.ts);

    // Slack keeps blocks an update leaves out.
    await client.chat.update({ channel: C, ts, text: 'text only' });
    expect(slack.message(C, ts)!.blocks).toEqual(sectionBlocks('*checkout* now at 10%'));
  });

  it('rejects chat.update of an unknown ts as a platform error', async () => {
    await client.chat.postMessage({ channel: C, text: 'hello' });
    const err = (await rejection(client.chat.update({ channel: C, ts: '1699999999.000001', text: 'x' }))) as WebAPIPlatformError;
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.code).toBe('slack_webapi_platform_error');
    expect(err.data.error).toBe('message_not_found');
    const other = (await rejection(client.chat.update({ channel: 'C0ELSEWHERE', ts: slack.lastMessage(C)!.ts, text: 'x' }))) as WebAPIPlatformError;
    expect(other.data.error).toBe('message_not_found');
  });

  it('records ephemerals per user, apart from channel messages', async () => {
    const res = await client.chat.postEphemeral({ channel: C, user: 'U1', text: 'only you', blocks: sectionBlocks('psst') });
    expect(res.ok).toBe(true);
    expect(res.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(slack.ephemerals('U1')).toHaveLength(1);
    expect(slack.ephemerals('U1')[0]).toMatchObject({ channel: C, user: 'U1', text: 'only you', message_ts: res.message_ts });
    expect(slack.ephemerals('U1')[0]!.blocks).toHaveLength(2);
    expect(slack.ephemerals('U2')).toEqual([]);
    expect(slack.messages(C)).toEqual([]);
  });

  it('lists usergroup members and user info', async () => {
    expect((await client.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U1', 'U2']);
    const missing = (await rejection(client.usergroups.users.list({ usergroup: 'S0NOPE' }))) as WebAPIPlatformError;
    expect(missing.data.error).toBe('no_such_subteam');
    expect((await client.users.info({ user: 'U1' })).user).toMatchObject({ id: 'U1', name: 'alice', tz: 'Europe/Paris' });
    expect((await client.users.info({ user: 'U0UNSEEDED' })).user?.id).toBe('U0UNSEEDED');
  });

  it('answers not_authed without a bearer token, and unknown_method for the unimplemented', async () => {
    const anonymous = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: fastRetries, logLevel: WebLogLevel.ERROR });
    const err = (await rejection(anonymous.chat.postMessage({ channel: C, text: 'hi' }))) as WebAPIPlatformError;
    expect(err.code).toBe('slack_webapi_platform_error');
    expect(err.data.error).toBe('not_authed');
    expect(slack.messages(C)).toEqual([]);
    const unknown = (await rejection(client.apiCall('conversations.kick', { channel: C }))) as WebAPIPlatformError;
    expect(unknown.data.error).toBe('unknown_method');
  });

  it('turns failNext into a thrown platform error, once', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    const err = (await rejection(client.chat.postMessage({ channel: C, text: 'hi' }))) as WebAPIPlatformError;
    expect(err.code).toBe('slack_webapi_platform_error');
    expect(err.data).toMatchObject({ ok: false, error: 'channel_not_found' });
    expect(err.message).toContain('channel_not_found');
    // ok:false is a final answer: the client does not retry it.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    await client.chat.postMessage({ channel: C, text: 'hi again' });
    expect(slack.messages(C)).toHaveLength(1);
  });

  it('holds an answer back while the message it answers is already there to be seen', async () => {
    const channel = 'C0HELD';
    const hold = slack.holdAnswerOfNext('chat.postMessage');
    let answered = false;
    const posting = client.chat.postMessage({ channel, text: 'held' }).then((res) => {
      answered = true;
      return res;
    });
    const call = await hold.reached;
    expect(call.ok).toBe(true);
    const [shown] = slack.messages(channel);
    expect(shown?.text).toBe('held');
    // Still unanswered after a whole other call has come and gone.
    await client.auth.test();
    expect(answered).toBe(false);
    hold.release();
    const res = await posting;
    expect(res.ts).toBe(shown!.ts);
    // Only the next call is held.
    await client.chat.postMessage({ channel, text: 'not held' });
    expect(slack.messages(channel)).toHaveLength(2);
  });

  it('makes the client wait Retry-After on a 429, then retry and deliver', async () => {
    const rateLimited: number[] = [];
    const watched = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: fastRetries, logLevel: WebLogLevel.ERROR });
    watched.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    slack.rateLimitNext('chat.postMessage', 1, 1);

    const started = Date.now();
    const res = await watched.chat.postMessage({ channel: C, text: 'after the limit' });
    const elapsed = Date.now() - started;

    expect(res.ok).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(rateLimited).toEqual([1]);
    expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(slack.message(C, res.ts!)?.text).toBe('after the limit');
  });

  it('with the default retry policy, adds its own 1–2 s backoff on top of Retry-After', async () => {
    const defaults = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, logLevel: WebLogLevel.ERROR });
    slack.rateLimitNext('chat.postMessage', 1, 1);
    const started = Date.now();
    await defaults.chat.postMessage({ channel: C, text: 'slowly' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_950);
    expect(slack.messages(C)).toHaveLength(1);
  });

  it('retries HTTP 500s, and surfaces slack_webapi_http_error when retries run out', async () => {
    slack.serverErrorNext('chat.update', 2);
    const { ts } = await client.chat.postMessage({ channel: C, text: 'v1' });
    await client.chat.update({ channel: C, ts: ts!, text: 'v2' });
    expect(slack.callsTo('chat.update').map((c) => c.status)).toEqual([500, 500, 200]);
    expect(slack.message(C, ts!)!.text).toBe('v2');

    slack.serverErrorNext('chat.postMessage', 10, 503);
    const impatient = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 1 }, logLevel: WebLogLevel.ERROR });
    const err = (await rejection(impatient.chat.postMessage({ channel: C, text: 'never' }))) as WebAPIHTTPError;
    expect(err.code).toBe('slack_webapi_http_error');
    expect(err.statusCode).toBe(503);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.status === 503)).toHaveLength(2);
  });

  it('records response_url posts and applies them to a bound message', async () => {
    const { ts } = await client.chat.postMessage({ channel: C, text: 'Approve?', blocks: sectionBlocks('pending') });
    const url = slack.responseUrl('click-1', { channel: C, ts: ts!, user: 'U1' });
    expect(url).toBe(`${slack.url}/response/click-1`);

    // Exactly how Bolt's respond() posts (context/create-respond.ts).
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ text: 'Approved', replace_original: true, blocks: sectionBlocks('approved') })).status).toBe(200);
    expect((await post({ text: 'just for you' })).status).toBe(200);

    expect(slack.responses('click-1').map((r) => [r.text, r.replace_original])).toEqual([
      ['Approved', true],
      ['just for you', undefined],
    ]);
    expect(slack.message(C, ts!)!.text).toBe('Approved');
    expect(slack.message(C, ts!)!.versions.at(-1)!.via).toBe('response_url');
    expect(slack.ephemerals('U1').map((e) => e.text)).toEqual(['just for you']);

    slack.failNext('response_url', { error: 'expired_url' });
    expect((await post({ text: 'late' })).status).toBe(404);
  });

  it('waitFor resolves with the value, and times out listing recent calls', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: C, text: 'eventually' }), 100);
    const msg = await slack.waitFor(() => slack.lastMessage(C), 2_000, 'a message in C0OPS');
    expect(msg.text).toBe('eventually');

    const err = await rejection(slack.waitFor(() => slack.messages(C).find((m) => m.text === 'never'), 200, 'the never message'));
    expect(err.message).toContain('waitFor(the never message) timed out after 200 ms');
    expect(err.message).toMatch(/chat\.postMessage → ok channel=C0OPS .*text="eventually"/);
  });
});

describe('signed requests, accepted by a real Bolt app talking to the stand-in', () => {
  const secret = 'signing-secret-for-tests';
  let slack: SlackStandIn;
  let app: App;
  let baseUrl: string;

  beforeAll(async () => {
    slack = await startSlackStandIn();
    app = new App({ token: TOKEN, signingSecret: secret, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: fastRetries } });
    app.command('/strangle', async ({ ack, command, respond, client }) => {
      await ack();
      await respond({ text: `on it: ${command.text}` });
      await client.chat.postMessage({ channel: command.channel_id, text: `request by <@${command.user_id}>`, blocks: sectionBlocks(command.text) });
    });
    app.action('approve', async ({ ack, body, respond, client }) => {
      await ack();
      if (body.type !== 'block_actions' || !body.channel || !body.message) throw new Error('unexpected payload');
      await client.chat.update({ channel: body.channel.id, ts: body.message.ts, text: `approved by ${body.user.id}`, blocks: [] });
      await respond({ text: 'thanks', replace_original: false });
    });
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await slack.close();
  });

  it('signs like Slack (v0 HMAC-SHA256 of v0:ts:body)', () => {
    // Vector computed independently: printf 'v0:1531420618:hello' | openssl dgst -sha256 -hmac secret
    expect(signSlackRequest('secret', 'hello', 1531420618)).toEqual({
      'X-Slack-Signature': 'v0=cf20310fa94bde55d7304d8575f22412a81fd33f33f2177e7f815b5172e04376',
      'X-Slack-Request-Timestamp': '1531420618',
    });
  });

  it('runs a slash command through Bolt: ack, respond() to the response_url, chat.postMessage', async () => {
    const responseUrl = slack.responseUrl('cmd-1');
    const res = await postSlashCommand(baseUrl, secret, { text: 'checkout 10', userId: 'U1', channelId: C, responseUrl });
    expect(res.status).toBe(200);
    await slack.waitFor(() => slack.lastMessage(C), 3_000, 'the bot to post');
    expect(slack.responses('cmd-1').map((r) => r.text)).toEqual(['on it: checkout 10']);
    expect(slack.lastMessage(C)!.text).toBe('request by <@U1>');
    expect(slack.callsTo('auth.test').length).toBeGreaterThanOrEqual(1);
  });

  it('runs a button click through Bolt: chat.update on the clicked message', async () => {
    const { ts } = await app.client.chat.postMessage({ channel: C, text: 'Approve?', blocks: sectionBlocks('pending') });
    const clicked = slack.message(C, ts!)!;
    const responseUrl = slack.responseUrl('click-2');
    const res = await postBlockAction(baseUrl, secret, { userId: 'U2', channelId: C, messageTs: ts!, actionId: 'approve', value: 'cr-1', responseUrl, message: clicked });
    expect(res.status).toBe(200);
    await slack.waitFor(() => slack.responses('click-2').length > 0, 3_000, 'respond() after the click');
    expect(slack.message(C, ts!)!.text).toBe('approved by U2');
    expect(slack.callsTo('chat.update').at(-1)!.args.blocks).toEqual([]);
  });

  it('is rejected by Bolt when the signature is wrong, missing or stale', async () => {
    const input = { text: 'x', userId: 'U1', channelId: C, responseUrl: slack.responseUrl('bad') };
    expect((await postSlashCommand(baseUrl, secret, input, { badSignature: true })).status).toBe(401);
    expect((await postSlashCommand(baseUrl, secret, input, { unsigned: true })).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await postSlashCommand(baseUrl, secret, input, { timestamp: stale })).status).toBe(401);
    expect(slack.responses('bad')).toEqual([]);
  });

  it('replays a captured request byte for byte', async () => {
    const responseUrl = slack.responseUrl('replay');
    const first = await postSlashCommand(baseUrl, secret, { text: 'again', userId: 'U1', channelId: C, responseUrl });
    const again = await postSlackRaw(baseUrl, first.request);
    expect([first.status, again.status]).toEqual([200, 200]);
    await slack.waitFor(() => slack.responses('replay').length === 2, 3_000, 'both deliveries answered');
  });
});

describe('real redis-server and memcached helpers', () => {
  it('freePort picks ports below the kernel’s ephemeral range, where listen(0) and outgoing connections never land', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(10_000);
      expect(p).toBeLessThan(low!);
      expect(await refused(p)).toBe(true);
    }
  });

  it('starts redis, answers, stops, restarts on the same port, survives kill', async () => {
    const redis = await startRedisServer();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined); // expected while the server is down
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');

      await redis.stop();
      expect(redis.running).toBe(false);
      expect(await refused(redis.port)).toBe(true);

      await redis.start();
      const again = new Redis(redis.url, { maxRetriesPerRequest: 0 });
      again.on('error', () => undefined);
      expect(await again.get('k')).toBeNull(); // nothing persisted: a restart is a cold Redis
      await again.set('k', 'v2');
      await redis.kill();
      await expect(again.get('k')).rejects.toThrow();
      again.disconnect();
      await redis.start();
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });

  it('starts memcached, answers, stops and restarts', async () => {
    const mc = await startMemcachedServer();
    const logger = { log: () => undefined };
    const client = memjs.Client.create(mc.servers, { retries: 0, timeout: 0.5, logger });
    try {
      expect(mc.servers).toBe(`127.0.0.1:${mc.port}`);
      expect(await client.add('lock:checkout', 'run-42', { expires: 30 })).toBe(true);
      expect(await client.add('lock:checkout', 'run-43', { expires: 30 })).toBe(false);
      expect((await client.get('lock:checkout')).value?.toString()).toBe('run-42');

      await mc.stop();
      await expect(client.get('lock:checkout')).rejects.toBeTruthy();

      await mc.start();
      const fresh = memjs.Client.create(mc.servers, { retries: 0, timeout: 0.5, logger });
      expect((await fresh.get('lock:checkout')).value).toBeNull();
      fresh.close();
    } finally {
      client.close();
      await mc.stop();
    }
  });
});

describe('Slack stand-in: Home views, permalinks and external uploads, driven by WebClient', () => {
  let slack: SlackStandIn;
  let client: WebClient;
  beforeAll(async () => {
    slack = await startSlackStandIn();
    client = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  });
  afterAll(async () => {
    await slack?.close();
  });

  it('views.publish keeps each user’s Home view and refuses more than 100 blocks, as Slack does', async () => {
    await client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: sectionBlocks('hello') as never } });
    expect(renderedText(slack.homeView('U0ALICE')!)).toContain('hello');
    const tooMany = Array.from({ length: 101 }, () => ({ type: 'divider' }));
    await expect(client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: tooMany as never } })).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    expect(slack.publishedViews('U0ALICE')).toHaveLength(1);
  });

  it('chat.getPermalink answers for a message that exists, and only then', async () => {
    const posted = await client.chat.postMessage({ channel: C, text: 'x' });
    const link = await client.chat.getPermalink({ channel: C, message_ts: posted.ts! });
    expect(link.permalink).toBe(`https://strangler-test.slack.com/archives/${C}/p${posted.ts!.replace('.', '')}`);
    await expect(client.chat.getPermalink({ channel: C, message_ts: '1.000001' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
  });

  it('filesUploadV2 goes through getUploadURLExternal, the upload URL and completeUploadExternal; a length that does not match is refused', async () => {
    const bytes = Buffer.from('not really a png, but bytes all the same');
    await client.filesUploadV2({ channel_id: C, file: bytes, filename: 'a.bin', title: 'A', initial_comment: 'see this' });
    const [upload] = slack.uploads;
    expect(upload).toMatchObject({ filename: 'a.bin', length: bytes.length, completed: true, channel: C, title: 'A', initialComment: 'see this' });
    expect(upload!.bytes!.equals(bytes)).toBe(true);
    expect(slack.lastMessage(C)!.text).toBe('see this');

    // Told one length, sent another: Slack refuses to complete it.
    const url = await client.files.getUploadURLExternal({ filename: 'b.bin', length: 10 });
    const res = await fetch(url.upload_url!, { method: 'POST', body: Buffer.from('12345') });
    expect(res.status).toBe(200);
    await expect(client.files.completeUploadExternal({ files: [{ id: url.file_id! }], channel_id: C })).rejects.toMatchObject({ data: { error: 'file_upload_size_mismatch' } });
  });
});
