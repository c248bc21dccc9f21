import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderedText } from '../support/slack-stand-in.js';
import { aliasRecord, ALICE, baseConfig, BOB, BotHarness, buttonLabels, CAROL, MALLORY, SIGNING_SECRET, ZONE } from '../support/bot-harness.js';
import { postSlashCommand } from '../support/slack-requests.js';

const EXTRA = ['pay', 'search', 'auth', 'mail', 'feed', 'shop'];

function config(): Record<string, unknown> {
  const base = baseConfig() as { services: Record<string, unknown> };
  const services: Record<string, unknown> = { ...base.services };
  for (const name of EXTRA) {
    services[name] = {
      route53: { hostedZoneId: ZONE, recordName: `${name}.example.com`, recordType: 'A', kubernetesSetIdentifier: 'primary', ec2SetIdentifier: 'secondary' },
      maxStep: 25,
    };
  }
  return { ...base, services };
}

describe('approval rules, blast radius and bad input', () => {
  let h: BotHarness;

  beforeAll(async () => {
    h = await BotHarness.start({ config: config() });
    for (const name of EXTRA) {
      h.r53.putRecord(ZONE, aliasRecord(`${name}.example.com`, 'primary', 10, `k8s-${name}.elb.amazonaws.com`));
      h.r53.putRecord(ZONE, aliasRecord(`${name}.example.com`, 'secondary', 90, `ec2-${name}.elb.amazonaws.com`));
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  async function request(user: string, text: string): Promise<number> {
    const reply = await h.ask(user, text);
    const m = /Request #(\d+) is waiting/.exec(reply);
    if (!m) throw new Error(`no request was opened: ${reply}`);
    return Number(m[1]);
  }

  function weights(name: string) {
    return {
      kubernetes: h.r53.getRecord(ZONE, `${name}.example.com`, 'A', 'primary')?.Weight,
      ec2: h.r53.getRecord(ZONE, `${name}.example.com`, 'A', 'secondary')?.Weight,
    };
  }

  it('someone who is not an approver is told so privately and nothing changes; a reject ends the request', async () => {
    const id = await request(ALICE, 'pay 20');
    const m = await h.waitForApproval(id, 'waits for approval');
    await h.click(MALLORY, m, 'approve');
    const whisper = await h.slack.waitFor(() => h.slack.ephemerals(MALLORY).at(-1), 5000, 'ephemeral to Mallory');
    expect(whisper.text).toContain('You are not an approver');
    expect(buttonLabels(h.approvalMessage(id)!)).toEqual(['Approve', 'Reject']);

    await h.click(BOB, m, 'reject');
    const rejected = await h.waitForApproval(id, 'Rejected by <@U0BOB>');
    expect(buttonLabels(rejected)).toEqual([]);
    expect(renderedText(rejected)).toContain('Nothing changed');
    expect(weights('pay')).toEqual({ kubernetes: 10, ec2: 90 });
    expect(h.r53.appliedBatches.filter((b) => b.comment?.includes('pay'))).toHaveLength(0);
  });

  it('a requester cannot approve their own change (four eyes), another approver can', async () => {
    const id = await request(BOB, 'search 25');
    const m = await h.waitForApproval(id, 'waits for approval');
    await h.click(BOB, m, 'approve');
    const whisper = await h.slack.waitFor(() => h.slack.ephemerals(BOB).find((e) => e.text.includes('four eyes')), 5000, 'self-approval refusal');
    expect(whisper.text).toContain('cannot approve it yourself');
    expect(buttonLabels(h.approvalMessage(id)!)).toEqual(['Approve', 'Reject']);
    await h.click(CAROL, m, 'approve');
    await h.waitForApproval(id, 'Applied and verified');
    expect(weights('search')).toEqual({ kubernetes: 25, ec2: 75 });
  });

  it('many approve clicks at once apply the change exactly once', async () => {
    const id = await request(ALICE, 'auth 30');
    const m = await h.waitForApproval(id, 'waits for approval');
    const before = h.r53.appliedBatches.length;
    const clicks = await Promise.all([BOB, CAROL, BOB, CAROL, BOB].map((u) => h.click(u, m, 'approve')));
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    await h.waitForApproval(id, 'Applied and verified');
    // Each losing click is refused, as the last thing its handler does: once all four refusals are
    // in, every click has been handled.
    const refusalsOf = () => h.slack.ephemerals().filter((e) => e.text.includes(`Request #${id} is already`));
    await h.slack.waitFor(() => refusalsOf().length >= 4, 10_000, 'four clicks to be refused');
    expect(h.r53.appliedBatches.length - before).toBe(1);
    expect(refusalsOf()).toHaveLength(4);
  });

  it('a request whose records changed meanwhile is stale: nothing applied, current split shown', async () => {
    const id = await request(ALICE, 'mail 20');
    const m = await h.waitForApproval(id, 'waits for approval');
    h.r53.setWeight(ZONE, 'mail.example.com', 'A', 'primary', 50);
    const before = h.r53.appliedBatches.length;
    await h.click(BOB, m, 'approve');
    const stale = await h.waitForApproval(id, 'stale');
    expect(renderedText(stale)).toContain('nothing was applied');
    expect(renderedText(stale)).toContain('Current split: Kubernetes 36% · EC2 64%');
    expect(h.r53.appliedBatches.length).toBe(before);
    expect(weights('mail')).toEqual({ kubernetes: 50, ec2: 90 });
  });

  it('one open request per service; only the requester may withdraw it', async () => {
    const id = await request(ALICE, 'feed 20');
    const second = await h.ask(CAROL, 'feed 30');
    expect(second).toContain(`already has an open request: #${id}`);
    const notYours = await h.ask(CAROL, `cancel ${id}`);
    expect(notYours).toContain(`Only the requester of #${id} can withdraw it`);
    const withdrawn = await h.ask(ALICE, `cancel #${id}`);
    expect(withdrawn).toContain(`Request #${id} withdrawn`);
    const m = await h.waitForApproval(id, 'Withdrawn by <@U0ALICE>');
    expect(buttonLabels(m)).toEqual([]);
    // The service is free again.
    const next = await request(CAROL, 'feed 30');
    expect(next).toBeGreaterThan(id);
    await h.ask(CAROL, `cancel ${next}`);
  });

  it('a step larger than maxStep is refused with the largest allowed value, and nothing is queued', async () => {
    const posted = h.slack.callsTo('chat.postMessage').length;
    const reply = await h.ask(ALICE, 'shop 60');
    expect(reply).toContain('step of 50 points; the limit for this service is 25');
    expect(reply).toContain('Largest allowed: 35');
    expect(h.slack.callsTo('chat.postMessage').length).toBe(posted);
  });

  it.each([
    ['', 'The command is empty'],
    ['apu 30', 'There is no service called `apu`'],
    ['api 101', '`101` is not a weight'],
    ['api thirty', '`thirty` is not a weight'],
    ['api -5', '`-5` is not a weight'],
    ['api 12.5', '`12.5` is not a weight'],
    ['frobnicate', '`frobnicate` is neither a command nor a known service'],
    ['cancel abc', '`abc` is not a request number'],
  ])('bad input %j is answered privately and queues nothing', async (text, problem) => {
    const posted = h.slack.callsTo('chat.postMessage').length;
    const seq = await h.ask(ALICE, 'history');
    const cmd = await h.command(ALICE, text);
    expect(cmd.http.status).toBe(200);
    const body = cmd.http.json<{ response_type: string }>();
    expect(body.response_type).toBe('ephemeral');
    const reply = await h.reply(cmd);
    expect(reply).toContain(problem);
    expect(reply).toMatch(/Usage|Known services|\/strangle/);
    if (text.startsWith('apu')) expect(reply).toContain('Known services: api, web, pay');
    expect(h.slack.callsTo('chat.postMessage').length).toBe(posted);
    expect(await h.ask(ALICE, 'history')).toBe(seq);
  });

  it('user text is escaped: a reason cannot ping the channel or anyone', async () => {
    const id = await request(ALICE, 'web 10 <!channel> <@U0BOB> <https://evil.example|click> & more');
    const m = await h.waitForApproval(id, 'waits for approval');
    const text = renderedText(m);
    expect(text).toContain('&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click&gt; &amp; more');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil');
    await h.ask(ALICE, `cancel ${id}`);
  });

  it('requests with a bad signature or a timestamp older than 5 minutes are refused and change nothing', async () => {
    const posted = h.slack.callsTo('chat.postMessage').length;
    const forged = await h.command(ALICE, 'api 20', { badSignature: true });
    expect(forged.http.status).toBe(401);
    const replayed = await postSlashCommand(
      h.baseUrl,
      SIGNING_SECRET,
      { text: 'api 20', userId: ALICE, channelId: 'C0OPS', responseUrl: h.slack.responseUrl('replay') },
      { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(replayed.status).toBe(401);
    // The same command, genuinely signed and sent after them, is the marker: once it has opened its
    // request, the bot has handled what came before it, and only that one message was posted.
    const genuine = await request(ALICE, 'api 20');
    expect(h.slack.callsTo('chat.postMessage').length).toBe(posted + 1);
    expect(h.slack.responses('replay')).toHaveLength(0);
    expect(h.slack.responses(forged.responseId)).toHaveLength(0);
    await h.ask(ALICE, `cancel ${genuine}`);
  });

  it('Route 53 Throttling and PriorRequestNotComplete are retried and the change lands once', async () => {
    const id = await request(ALICE, 'api 20');
    const m = await h.waitForApproval(id, 'waits for approval');
    h.r53.failNext('ChangeResourceRecordSets', 'Throttling', 1);
    h.r53.failNext('ChangeResourceRecordSets', 'PriorRequestNotComplete', 1);
    const calls = h.r53.countCalls('ChangeResourceRecordSets');
    await h.click(BOB, m, 'approve');
    await h.waitForApproval(id, 'Applied and verified', 20_000);
    expect(h.r53.countCalls('ChangeResourceRecordSets') - calls).toBe(3);
    expect(h.weights('api')).toEqual({ kubernetes: 20, ec2: 80 });
  });

  it('status shows the live split, TTL, open requests; both-zero pairs are shown as the 50/50 Route 53 serves', async () => {
    h.r53.setWeight(ZONE, 'shop.example.com', 'A', 'primary', 0);
    h.r53.setWeight(ZONE, 'shop.example.com', 'A', 'secondary', 0);
    const id = await request(ALICE, 'pay 15');
    const status = await h.ask(ALICE, 'status');
    expect(status).toContain('*api* (api.example.com)\nKubernetes 20% · EC2 80% · weights 20/80 · TTL alias');
    expect(status).toContain('*web* (web.example.com)\nKubernetes 0% · EC2 100% · weights 0/100 · TTL 60 s');
    expect(status).toMatch(/\*shop\*[^*]*Kubernetes 50% · EC2 50% · weights 0\/0[^*]*Both weights are 0, so Route 53 serves this pair 50\/50/);
    expect(status).toContain(`Open request #${id} (requested) from <@U0ALICE>`);
    const one = await h.ask(ALICE, 'status web');
    expect(one).toContain('*web*');
    expect(one).not.toContain('*api*');
    // From 0/0 the bot never writes 0/0, and the split it reasons from is the real 50/50.
    expect(await h.ask(ALICE, 'shop 100')).toContain('step of 50 points');
    await h.ask(ALICE, `cancel ${id}`);
  });

  it('help lists the commands and the known services', async () => {
    const help = await h.ask(MALLORY, 'help');
    expect(help).toContain('/strangle <service> <0-100> [reason]');
    expect(help).toContain('`api`, `web`');
  });
});
