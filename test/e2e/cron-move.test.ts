import memjs from 'memjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderedText } from '../support/slack-stand-in.js';
import { ALICE, APPROVALS, baseConfig, BOB, BotHarness, buttonLabels, CAROL } from '../support/bot-harness.js';

function config(): Record<string, unknown> {
  return {
    ...baseConfig(),
    memcache: { servers: ['overridden-by-MEMCACHE_SERVERS:11211'] },
    cronjobs: {
      'nightly-report': { kubernetes: { namespace: 'jobs', name: 'nightly-report' }, lockKey: 'lock:nightly-report' },
      ghost: { kubernetes: { namespace: 'jobs', name: 'ghost' }, lockKey: 'lock:ghost' },
      secret: { kubernetes: { namespace: 'locked', name: 'secret' }, lockKey: 'lock:secret' },
    },
  };
}

describe('/strangle cron: moving periodic jobs between cron.d and Kubernetes', () => {
  let h: BotHarness;
  let mc: memjs.Client;

  beforeAll(async () => {
    // Every 2 s (a seconds field), so the witness has a scheduled run to look at within the test.
    h = await BotHarness.start({ config: config(), kubernetes: true, env: { STRANGLER_WITNESS_DELAY_MS: '700' } });
    h.kube!.putCronJob({ namespace: 'jobs', name: 'nightly-report', schedule: '*/2 * * * * *', suspend: true, lastScheduleTime: new Date(Date.now() - 86_400_000) });
    h.kube!.putCronJob({ namespace: 'locked', name: 'secret', schedule: '0 3 * * *' });
    h.kube!.forbid('locked');
    mc = memjs.Client.create(h.memcached!.servers, { logger: { log: () => undefined } });
  });
  afterAll(async () => {
    mc?.close();
    await h?.close();
  });

  it('lists every job: where it runs, its schedule, the lock and problems reading it', async () => {
    await mc.set('lock:nightly-report', 'ip-10-0-1-5 pid 4242', { expires: 30 });
    const list = await h.ask(ALICE, 'cron');
    expect(list).toContain('*nightly-report* (CronJob jobs/nightly-report)');
    expect(list).toContain('Runs on EC2 (the CronJob is suspended) · schedule `*/2 * * * * *` UTC');
    expect(list).toContain('Lock `lock:nightly-report`: held by ip-10-0-1-5 pid 4242');
    expect(list).toMatch(/\*ghost\*[^*]*:warning: .*does not exist/i);
    expect(list).toMatch(/\*secret\*[^*]*:warning: .*forbidden/i);
    await mc.delete('lock:nightly-report');
    const status = await h.ask(ALICE, 'status');
    expect(status).toContain('*api* (api.example.com)');
    expect(status).toContain('*nightly-report* (CronJob jobs/nightly-report)');
    expect(status).toContain('Lock `lock:nightly-report`: free');
  });

  it('a CronJob missing from the cluster, a forbidden namespace: a clear answer and nothing queued', async () => {
    const posted = h.slack.callsTo('chat.postMessage').length;
    const missing = await h.ask(ALICE, 'cron ghost k8s');
    expect(missing).toMatch(/does not exist/i);
    expect(missing).toMatch(/never creates/i);
    const forbidden = await h.ask(ALICE, 'cron secret ec2');
    expect(forbidden).toMatch(/forbidden/i);
    expect(forbidden).toMatch(/cronjobs/);
    expect(h.slack.callsTo('chat.postMessage').length).toBe(posted);
    expect(h.kube!.callsTo({ verb: 'patch' })).toHaveLength(0);
  });

  it('moves a job to Kubernetes, proves it with the next run, and rolls it back to EC2', async () => {
    const reply = await h.ask(ALICE, 'cron nightly-report k8s ready to take over');
    expect(reply).toContain('Request #1 is waiting for approval');
    expect(reply).toContain('nightly-report: EC2 → Kubernetes');
    const asked = await h.waitForApproval(1, 'waits for approval');
    expect(asked.channel).toBe(APPROVALS);
    expect(buttonLabels(asked)).toEqual(['Approve', 'Reject']);
    await h.click(ALICE, asked, 'approve'); // the same approver rules as weight changes
    await h.slack.waitFor(() => h.slack.ephemerals(ALICE).find((e) => e.text.includes('You are not an approver')), 5000, 'refusal');

    await h.click(BOB, asked, 'approve');
    const applied = await h.waitForApproval(1, 'Applied and verified');
    expect(renderedText(applied)).toContain('nightly-report now runs on Kubernetes');
    expect(buttonLabels(applied)).toEqual(['Roll back']);
    expect(h.kube!.cronJob('jobs', 'nightly-report')!.spec.suspend).toBe(false);
    const patches = h.kube!.callsTo({ verb: 'patch', resource: 'cronjobs' });
    expect(patches).toHaveLength(1);
    expect(patches[0]!.contentType).toContain('application/merge-patch+json');
    expect(patches[0]!.body).toEqual({ spec: { suspend: false } });
    expect(h.kube!.cronJob('jobs', 'nightly-report')!.spec.schedule).toBe('*/2 * * * * *');

    // Kubernetes' controller starts the run due next (the message names it); the stand-in is told
    // so now, stamped with that time, as the controller will have done by the time the witness looks.
    const due = /Next run due (\S+Z);/.exec(renderedText(applied))?.[1];
    expect(due).toBeDefined();
    h.kube!.putJob({ namespace: 'jobs', name: 'nightly-report-29012345', ownerCronJob: 'nightly-report', createdAt: new Date(due!), outcome: 'succeeded' });
    const witness = await h.slack.waitFor(
      () => h.slack.messages(APPROVALS).find((m) => m.thread_ts === applied.ts && m.text.includes('Witness for #1')),
      8000,
      'witness report for #1',
    );
    expect(witness.text).toContain('Kubernetes started Job `nightly-report-29012345`');
    expect(witness.text).toContain('succeeded');

    // Roll back while a Kubernetes run holds the lock: the move says so and the run finishes. That
    // run started just before the move, in the very second the move may finish in (creationTimestamp
    // counts whole seconds): it is not a run after the move.
    h.kube!.putJob({ namespace: 'jobs', name: 'nightly-report-29012346', ownerCronJob: 'nightly-report', createdAt: new Date(Math.floor(Date.now() / 1000) * 1000), outcome: 'running' });
    await mc.set('lock:nightly-report', 'k8s nightly-report-29012346', { expires: 30 });
    await h.click(CAROL, h.approvalMessage(1)!, 'rollback');
    const rollback = await h.waitForApproval(2, 'waits for approval');
    expect(renderedText(rollback)).toContain('nightly-report: Kubernetes → EC2');
    await h.click(CAROL, rollback, 'approve');
    const back = await h.waitForApproval(2, 'Applied and verified');
    expect(renderedText(back)).toContain('nightly-report now runs on EC2');
    expect(renderedText(back)).toContain('A run is in progress (lock `lock:nightly-report` held by k8s nightly-report-29012346)');
    const cj = h.kube!.cronJob('jobs', 'nightly-report')!;
    expect(cj.spec.suspend).toBe(true);
    expect(cj.metadata.deletionTimestamp).toBeUndefined();

    // cron.d on EC2 takes the lock at the next run; Kubernetes starts nothing.
    await mc.set('lock:nightly-report', 'ip-10-0-1-5 pid 777', { expires: 30 });
    const seen = await h.slack.waitFor(
      () => h.slack.messages(APPROVALS).find((m) => m.thread_ts === back.ts && m.text.includes('Witness for #2')),
      8000,
      'witness report for #2',
    );
    expect(seen.text).toContain('Kubernetes did not start `nightly-report` after the move, as intended');
    expect(seen.text).toContain('held by ip-10-0-1-5 pid 777');
  });

  it('an unreachable API server gets a clear answer and nothing is queued', async () => {
    await h.kube!.down();
    try {
      const posted = h.slack.callsTo('chat.postMessage').length;
      const reply = await h.ask(ALICE, 'cron nightly-report k8s', {}, 15_000);
      expect(reply).toMatch(/Kubernetes API server .* unreachable/);
      expect(h.slack.callsTo('chat.postMessage').length).toBe(posted);
    } finally {
      await h.kube!.up();
    }
  });
});
