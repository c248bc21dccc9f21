import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, aliasRecord, APPROVALS, baseConfig, BOB, BotHarness, MALLORY, SIGNING_SECRET } from '../support/bot-harness.js';
import { appHomeOpenedEnvelope, postAppHomeOpened, postHomeButton } from '../support/home-requests.js';
import { renderedText } from '../support/slack-stand-in.js';

function config(): Record<string, unknown> {
  const base = baseConfig() as { slack: Record<string, unknown>; services: Record<string, unknown> };
  return {
    ...base,
    // Requesters named, so someone (Mallory) is neither requester nor approver.
    slack: { ...base.slack, requesters: [ALICE] },
    services: {
      ...base.services,
      // Configured, but its records are not in Route 53: its row is unknown, the others are not.
      ghost: { route53: { hostedZoneId: 'Z0123456789ABC', recordName: 'ghost.example.com', recordType: 'A', kubernetesSetIdentifier: 'k8s', ec2SetIdentifier: 'ec2' } },
    },
    memcache: { servers: ['overridden-by-MEMCACHE_SERVERS:11211'] },
    cronjobs: {
      nightly: { kubernetes: { namespace: 'jobs', name: 'nightly' }, lockKey: 'lock:nightly' },
      secret: { kubernetes: { namespace: 'locked', name: 'secret' }, lockKey: 'lock:secret' },
    },
  };
}

describe('App Home: the migration dashboard', () => {
  let h: BotHarness;
  let mc: memjs.Client;

  beforeAll(async () => {
    // The witness looks soon after a move: the job runs every 2 s (a seconds field).
    h = await BotHarness.start({ config: config(), kubernetes: true, env: { STRANGLER_WITNESS_DELAY_MS: '700' } });
    h.kube!.putCronJob({ namespace: 'jobs', name: 'nightly', schedule: '*/2 * * * * *', suspend: false });
    h.kube!.putJob({ namespace: 'jobs', name: 'nightly-29400000', ownerCronJob: 'nightly', createdAt: new Date(Date.now() - 3_600_000), outcome: 'succeeded' });
    h.kube!.putCronJob({ namespace: 'locked', name: 'secret', schedule: '0 4 * * *' });
    h.kube!.forbid('locked');
    mc = memjs.Client.create(h.memcached!.servers, { logger: { log: () => undefined } });
    await mc.set('lock:nightly', 'nightly-29400000-abcde (Kubernetes)', { expires: 60 });
  });
  afterAll(async () => {
    mc?.close();
    await h?.close();
  });

  /** Opens the Home tab as `user` and waits for the view published after it. */
  async function open(user: string): Promise<string> {
    const before = h.slack.publishedViews(user).length;
    const res = await postAppHomeOpened(h.baseUrl, SIGNING_SECRET, user);
    expect(res.status).toBe(200);
    return h.slack.waitFor(() => (h.slack.publishedViews(user).length > before ? renderedText(h.slack.homeView(user)!) : undefined), 10_000, `a Home view for ${user}`);
  }

  async function refresh(user: string): Promise<string> {
    const before = h.slack.publishedViews(user).length;
    const res = await postHomeButton(h.baseUrl, SIGNING_SECRET, user, h.slack.homeView(user)!, 'home_refresh');
    expect(res.status).toBe(200);
    return h.slack.waitFor(() => (h.slack.publishedViews(user).length > before ? renderedText(h.slack.homeView(user)!) : undefined), 10_000, `a refreshed Home view for ${user}`);
  }

  it('opening the tab publishes the dashboard: progress, bars, an unknown row with its reason, cron jobs', async () => {
    const view = await open(ALICE);
    expect(view).toContain('0 of 3 services fully on Kubernetes');
    expect(view).toContain('*api* (api.example.com)\n`▓░░░░░░░░░ 10% Kubernetes`');
    expect(view).toContain('*web* (web.example.com)\n`░░░░░░░░░░ 0% Kubernetes`');
    expect(view).toMatch(/\*ghost\* \(ghost\.example\.com\)\n:grey_question: split unknown: .*ghost\.example\.com/);
    expect(view).toContain('(of the 2 whose split could be read; 1 unknown)');
    expect(view).toMatch(/\*nightly\*: runs on Kubernetes · last Kubernetes run `nightly-29400000` <!date\^\d+\^[^>]*>, succeeded · lock held by nightly-29400000-abcde \(Kubernetes\)/);
    expect(view).toMatch(/\*secret\*: runs on unknown \(.*forbidden.*\)/i);
    expect(view).toContain('No change requests yet.');
    const published = h.slack.callsTo('views.publish').at(-1)!;
    expect(published.args.user_id).toBe(ALICE);
    expect(published.args.view.type).toBe('home');
    expect(published.args.view.blocks.length).toBeLessThanOrEqual(100);
  });

  it('Refresh re-publishes: an open request links to its message, then the applied change shows who, what, when', async () => {
    expect(await h.ask(ALICE, 'api 30 canary')).toContain('Request #1 is waiting for approval');
    const asked = await h.waitForApproval(1, 'waits for approval');
    let view = await refresh(ALICE);
    expect(view).toContain(`Open request <https://strangler-test.slack.com/archives/${APPROVALS}/p${asked.ts.replace('.', '')}|#1 (requested)> from <@U0ALICE>`);
    expect(view).toContain('`api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%`');

    await h.click(BOB, asked, 'approve');
    await h.waitForApproval(1, 'Applied and verified');
    view = await refresh(ALICE);
    expect(view).toContain('`▓▓▓░░░░░░░ 30% Kubernetes`');
    expect(view).toMatch(/Last change #1: `api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%` by <@U0ALICE>, approved by <@U0BOB>, <!date\^/);
    expect(view).toContain('*Last 1 change request*');
    expect(view).not.toContain('Open request');
    // Only the Home view changed: no message was posted for the refresh.
    expect(h.slack.callsTo('views.publish').every((c) => c.args.user_id === ALICE)).toBe(true);
  });

  it('a cron job’s last witnessed run: after a move to EC2, Kubernetes started nothing and cron.d held the lock', async () => {
    // cron.d on EC2 holds the lock from before the witness looks.
    await mc.set('lock:nightly', 'ip-10-0-1-5 pid 777', { expires: 60 });
    expect(await h.ask(ALICE, 'cron nightly ec2')).toContain('Request #2');
    await h.click(BOB, await h.waitForApproval(2, 'waits for approval'), 'approve');
    const applied = await h.waitForApproval(2, 'Applied');
    await h.slack.waitFor(() => h.slack.messages(APPROVALS).find((m) => m.thread_ts === applied.ts && m.text.includes('Witness for #2')), 15_000, 'the witness of #2');
    const view = await h.slack.waitFor(
      async () => {
        const v = await refresh(ALICE);
        return v.includes('Last witnessed run') ? v : undefined;
      },
      15_000,
      'the witness on the Home tab',
    );
    expect(view).toMatch(/\*nightly\*: runs on EC2 · .*lock held by ip-10-0-1-5 pid 777/);
    expect(view).toMatch(/Last witnessed run \(after move #2 to EC2, looked <!date\^\d+\^[^>]*>\): Kubernetes started nothing, so cron\.d on EC2 had the run; the lock was held by ip-10-0-1-5 pid 777/);
  });

  it('an approver is a member too; someone the rules do not name gets a short view, and nothing is read or changed', async () => {
    expect(await open(BOB)).toContain('Migration progress');
    const listings = h.r53.countCalls('ListResourceRecordSets');
    const posts = h.slack.callsTo('chat.postMessage').length;
    const view = await open(MALLORY);
    expect(view).toContain('You are not a member of this migration');
    expect(view).not.toContain('api');
    expect(h.r53.countCalls('ListResourceRecordSets')).toBe(listings);
    expect(h.slack.callsTo('chat.postMessage').length).toBe(posts);
    expect(h.weights('api')).toEqual({ kubernetes: 30, ec2: 70 });
  });

  it('the Messages tab opening is not the Home tab: nothing is published', async () => {
    const before = h.slack.callsTo('views.publish').length;
    expect((await postAppHomeOpened(h.baseUrl, SIGNING_SECRET, ALICE, 'messages')).status).toBe(200);
    // Then a Home open, handled after it: if the first had published, there would be two.
    await open(ALICE);
    expect(h.slack.callsTo('views.publish').length).toBe(before + 1);
  });

  it('Route 53 not answering makes every split unknown with the reason, and the view still comes', async () => {
    const hold = h.r53.holdNext('ListResourceRecordSets');
    try {
      const view = await open(ALICE);
      await hold.reached;
      expect(view).toContain('split unknown: Route 53 did not answer within 5 s');
      expect(view).toContain('0 of 3 services fully on Kubernetes');
      expect(view).toContain('*nightly*: runs on EC2');
      expect(view).toContain('*Last 2 change requests*');
    } finally {
      hold.release();
    }
  });
});

describe('App Home over Socket Mode', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await BotHarness.start({ socketMode: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('app_home_opened arrives as an events_api envelope and the view is published', async () => {
    await h.socket!.send('events_api', appHomeOpenedEnvelope(ALICE)).acked;
    const view = await h.slack.waitFor(() => h.slack.homeView(ALICE), 10_000, 'a Home view for Alice');
    expect(renderedText(view)).toContain('0 of 2 services fully on Kubernetes');
  });
});

describe('App Home with 150 services', () => {
  let h: BotHarness;
  const names = Array.from({ length: 150 }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
  beforeAll(async () => {
    const base = baseConfig() as { slack: Record<string, unknown> };
    const services = Object.fromEntries(
      names.map((n) => [n, { route53: { hostedZoneId: 'Z0123456789ABC', recordName: `${n}.example.com`, recordType: 'A', kubernetesSetIdentifier: 'k8s', ec2SetIdentifier: 'ec2' } }]),
    );
    h = await BotHarness.start({ config: { slack: base.slack, services } });
    // A third fully moved, the rest somewhere on the way; svc-149's records are missing.
    names.slice(0, 149).forEach((n, i) => {
      const k = i < 50 ? 100 : i % 100;
      h.r53.putRecord('Z0123456789ABC', aliasRecord(`${n}.example.com`, 'k8s', k, 'k8s-lb.elb.amazonaws.com'));
      h.r53.putRecord('Z0123456789ABC', aliasRecord(`${n}.example.com`, 'ec2', 100 - k, 'ec2-lb.elb.amazonaws.com'));
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the published view is one Slack accepts (at most 100 blocks), lists every service not yet at 100% and summarises the rest', async () => {
    expect((await postAppHomeOpened(h.baseUrl, SIGNING_SECRET, ALICE)).status).toBe(200);
    const view = await h.slack.waitFor(() => h.slack.homeView(ALICE), 15_000, 'a Home view for Alice');
    // The stand-in refuses a view over 100 blocks, as Slack does: the publish went through.
    expect(h.slack.callsTo('views.publish').at(-1)!.ok).toBe(true);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const text = renderedText(view);
    expect(text).toContain('50 of 150 services fully on Kubernetes');
    for (const n of names.slice(50)) expect(text).toContain(`*${n}* (${n}.example.com)`);
    expect(text).toContain(`*Fully on Kubernetes (50)*: ${names.slice(0, 50).join(', ')}`);
    expect(text).toMatch(/\*svc-149\* \(svc-149\.example\.com\)\n:grey_question: split unknown: /);
  });
});
