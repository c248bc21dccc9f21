/**
 * Redis goes away while people are typing and clicking, then comes back.
 *
 * Two cases, because "restarted" means two different things for the bot's state:
 * - Redis with an fsync'd AOF keeps everything: then no approval recorded before the stop may be
 *   lost, i.e. it must end applied, exactly once, without anyone clicking again.
 * - The harness's Redis keeps nothing: what was recorded is gone by definition, so all that can
 *   be asked is a clear answer during the outage and a working bot afterwards.
 * In both, every command and click in flight must get a private answer that says what happened
 * ("try again", or "recorded, will be applied"), never silence and never a stack trace.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisServer } from '../support/redis-server.js';
import { ALICE, APPROVALS, BOB, BotHarness, buttonLabels, CAROL, MALLORY } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';
import { usePersistentRedis } from './support/persistent-redis.js';
import {
  batchesFor,
  configWith,
  expectForwardOnly,
  expectNoInternals,
  openRequest,
  REDIS_DOWN,
  seedServices,
  waitReady,
  weightsOf,
} from './support/faults.js';

const EXTRA = ['pay', 'search', 'auth', 'mail', 'feed', 'shop'].map((name) => ({ name }));

/** The private answer a command got; "silence" fails here with the stand-in's call log. */
async function answerOf(h: BotHarness, cmd: ReturnType<BotHarness['command']>): Promise<string> {
  return h.reply(await cmd, 10_000);
}

/** The private answers to `user`'s clicks, once there are `count` of them. */
async function whispersTo(h: BotHarness, user: string, count: number): Promise<string[]> {
  const list = await h.slack.waitFor(
    () => {
      const got = h.slack.ephemerals(user);
      return got.length >= count ? got : undefined;
    },
    10_000,
    `${count} private answer(s) to ${user}`,
  );
  return list.map((e) => renderedText(e));
}

function expectRecordedNotQueued(text: string, id: number): void {
  expect(text).toContain(`Your approval of #${id} is recorded`);
  expect(text).toContain('applied automatically once the store is back; no need to click again');
  expectNoInternals(text);
}

function expectTryAgain(text: string): void {
  expect(text).toContain(REDIS_DOWN);
  expect(text).toMatch(/try again/i);
  expectNoInternals(text);
}

describe('Redis restarted under load', () => {
  let h: BotHarness | undefined;
  let persistent: RedisServer | undefined;

  afterEach(async () => {
    await h?.close();
    await persistent?.stop();
    h = undefined;
    persistent = undefined;
  });

  it('with a persistent Redis: every command and click in flight gets a clear answer, and every recorded approval is applied once afterwards', async () => {
    // A short sweep is what re-queues approvals whose job could not be added while Redis was away.
    h = await BotHarness.start({ config: configWith(EXTRA), env: { STRANGLER_SWEEP_EVERY_MS: '300' } });
    seedServices(h, EXTRA);
    const redis = (persistent = await usePersistentRedis(h));

    const pay = await openRequest(h, ALICE, 'pay 20');
    const search = await openRequest(h, ALICE, 'search 20');
    const auth = await openRequest(h, ALICE, 'auth 20');
    const [payMsg, searchMsg, authMsg] = await Promise.all([pay, search, auth].map((id) => h!.waitForApproval(id, 'waits for approval')));

    // Holding Slack and Route 53 answers puts work at known points when Redis stops: the two
    // clicks have recorded their approval and are updating the message; the three commands are
    // reading Route 53 and have not touched Redis yet.
    h.slack.delayNext('chat.update', 1500, 2);
    h.r53.latencyMs = 1500;
    const listsBefore = h.r53.countCalls('ListResourceRecordSets');
    const clickPay = h.click(BOB, payMsg!, 'approve');
    const clickSearch = h.click(CAROL, searchMsg!, 'approve');
    const mail = h.command(ALICE, 'mail 20');
    const feed = h.command(CAROL, 'feed 20');
    const status = h.command(MALLORY, 'status');
    await h.slack.waitFor(
      () => h!.slack.callsTo('chat.update').length >= 2 && h!.r53.countCalls('ListResourceRecordSets') >= listsBefore + 3,
      5000,
      'clicks and commands to be in flight',
    );
    await redis.stop();

    // And more arriving while it is down.
    const shop = h.command(ALICE, 'shop 20');
    const history = h.command(ALICE, 'history');
    const help = h.command(MALLORY, 'help');
    await Promise.all([clickPay, clickSearch]);
    const clickAuth = await h.click(CAROL, authMsg!, 'approve');
    expect(clickAuth.status).toBe(200);

    for (const cmd of [mail, feed, status, shop, history]) expectTryAgain(await answerOf(h, cmd));
    const helpText = await answerOf(h, help);
    expect(helpText).toContain('/strangle <service> <0-100> [reason]');
    // Approvals that reached Redis are not "nothing recorded": they say they will go through.
    const [bob] = await whispersTo(h, BOB, 1);
    expectRecordedNotQueued(bob!, pay);
    const carol = await whispersTo(h, CAROL, 2);
    expectRecordedNotQueued(carol.find((w) => w.includes(`#${search} `))!, search);
    expectTryAgain(carol.find((w) => !w.includes(`#${search} `))!);

    await redis.start();
    h.r53.latencyMs = 0;
    await waitReady(h);

    // Approvals Redis had recorded come back through the sweep, with nobody clicking again.
    await h.waitForApproval(pay, 'Applied and verified', 15_000);
    await h.waitForApproval(search, 'Applied and verified', 15_000);
    // The click on auth never reached Redis: the request still waits and can be approved now.
    expect(renderedText(h.approvalMessage(auth)!)).toContain('waits for approval');
    await h.click(BOB, h.approvalMessage(auth)!, 'approve');
    await h.waitForApproval(auth, 'Applied and verified', 10_000);
    // Commands that were refused recorded nothing, so they simply work when typed again.
    for (const name of ['mail', 'feed', 'shop']) {
      const id = await openRequest(h, ALICE, `${name} 20`);
      await h.click(BOB, await h.waitForApproval(id, 'waits for approval'), 'approve');
      await h.waitForApproval(id, 'Applied and verified', 10_000);
    }

    for (const name of ['pay', 'search', 'auth', 'mail', 'feed', 'shop']) {
      expect(weightsOf(h, name), name).toEqual({ kubernetes: 20, ec2: 80 });
      expect(batchesFor(h, name), `${name} change batches`).toBe(1);
    }
    for (const id of [pay, search, auth]) expectForwardOnly(h.approvalMessage(id)!, 'applied');
    expect(await h.ask(ALICE, 'status')).toContain('*pay* (pay.example.com)\nKubernetes 20% · EC2 80%');
    for (const e of h.slack.ephemerals()) expectNoInternals(renderedText(e));
  });

  it('with a Redis that lost everything: in-flight work is told to try again, and the bot works again once Redis is back', async () => {
    h = await BotHarness.start();
    const first = await openRequest(h, ALICE, 'api 30');
    const before = await h.waitForApproval(first, 'waits for approval');

    h.r53.latencyMs = 1500;
    const listsBefore = h.r53.countCalls('ListResourceRecordSets');
    const web = h.command(ALICE, 'web 50');
    const status = h.command(ALICE, 'status');
    await h.slack.waitFor(() => h!.r53.countCalls('ListResourceRecordSets') >= listsBefore + 2, 5000, 'commands to be reading Route 53');
    await h.redis.stop();
    const history = h.command(ALICE, 'history api');
    const cancel = h.command(ALICE, `cancel ${first}`);
    const click = await h.click(BOB, before, 'approve');
    expect(click.status).toBe(200);

    for (const cmd of [web, status, history, cancel]) expectTryAgain(await answerOf(h, cmd));
    for (const w of await whispersTo(h, BOB, 1)) expectTryAgain(w);
    expect(h.weights('api')).toEqual({ kubernetes: 10, ec2: 90 });

    await h.redis.start();
    h.r53.latencyMs = 0;
    await waitReady(h);

    expect(await h.ask(ALICE, 'status')).toContain('*api* (api.example.com)\nKubernetes 10% · EC2 90%');
    // Redis forgot request #1 and its counter, so the next request is #1 again.
    const again = await openRequest(h, ALICE, 'web 50');
    expect(again).toBe(1);
    const fresh = h.slack.messages(APPROVALS).filter((m) => renderedText(m).includes('web: ')).at(-1)!;
    await h.click(BOB, fresh, 'approve');
    await h.slack.waitFor(() => renderedText(h!.slack.message(APPROVALS, fresh.ts)!).includes('Applied and verified'), 10_000, 'web change applied');
    expect(h.weights('web')).toEqual({ kubernetes: 50, ec2: 50 });
    expect(h.r53.appliedBatches).toHaveLength(1);
  });

  it('a request whose approval message is posted as Redis goes away: the message loses its buttons and says how to clean up', async () => {
    h = await BotHarness.start({ env: { STRANGLER_SWEEP_EVERY_MS: '300' } });
    const redis = (persistent = await usePersistentRedis(h));
    // The request is created, then Redis stops while its approval message is being posted, so
    // the message cannot be linked to it: live buttons there could never update the message.
    h.slack.delayNext('chat.postMessage', 1500);
    const cmd = h.command(ALICE, 'api 30');
    await h.slack.waitFor(() => h!.slack.callsTo('chat.postMessage').length === 1, 5000, 'the approval post');
    await redis.stop();
    const answer = await answerOf(h, cmd);
    expect(answer).toContain('Request #1 was created but could not be completed: the bot cannot reach its Redis store.');
    expect(answer).toMatch(/try again/i);
    expectNoInternals(answer);
    const m = await h.slack.waitFor(() => h!.slack.messages(APPROVALS)[0]?.versions.length === 2 && h!.slack.messages(APPROVALS)[0], 5000, 'the disarmed message');
    expect(buttonLabels(m)).toEqual([]);
    expect(renderedText(m)).toContain('Withdraw it with `/strangle cancel 1` and ask again.');

    await redis.start();
    await waitReady(h);
    // Redis kept the half-made request; it is cleaned up the way the message says.
    expect(await h.ask(ALICE, 'api 30')).toContain('`api` already has an open request: #1.');
    expect(await h.ask(ALICE, 'cancel 1')).toContain('Request #1 withdrawn');
    const next = await openRequest(h, ALICE, 'api 30');
    await h.click(BOB, await h.waitForApproval(next, 'waits for approval'), 'approve');
    await h.waitForApproval(next, 'Applied and verified', 10_000);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
    expect(h.r53.appliedBatches).toHaveLength(1);
  });

  it('after Redis lost its data, buttons on old messages do not act on the new request that reuses their number', async () => {
    h = await BotHarness.start();
    const old = await openRequest(h, ALICE, 'api 30');
    const oldMessage = structuredClone(await h.waitForApproval(old, 'waits for approval'));
    await h.redis.stop();
    await h.redis.start();
    await waitReady(h);
    const fresh = await openRequest(h, CAROL, 'web 100');
    expect(fresh).toBe(old); // the counter started again

    // Bob approves what his screen says is "api → 30%"; it must not approve "web → 100%".
    await h.click(BOB, oldMessage, 'approve');
    const refusal = await h.slack.waitFor(() => h!.slack.ephemerals(BOB).at(-1), 5000, 'answer to the stale click');
    expect(refusal.text).toContain(`This message is out of date: it is not the approval message of request #${old}`);
    await h.click(BOB, oldMessage, 'reject');
    const second = await h.slack.waitFor(() => h!.slack.ephemerals(BOB)[1], 5000, 'answer to the stale reject');
    expect(second.text).toContain(`This message is out of date: it is not the approval message of request #${old}`);
    // A refusal is the last thing a click handler does, so both clicks are fully handled; one that
    // had decided would have edited the message before queueing anything (checked below).
    expect(h.r53.appliedBatches).toHaveLength(0);
    expect(h.weights('web')).toEqual({ kubernetes: 0, ec2: 100 });
    const current = h.approvalMessage(fresh)!;
    expect(renderedText(current)).toContain('web: Kubernetes 0% · EC2 100% → Kubernetes 100% · EC2 0%');
    expect(buttonLabels(current)).toEqual(['Approve', 'Reject']);
    expect(current.versions).toHaveLength(1); // never edited by either click
  });
});
