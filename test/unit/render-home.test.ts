import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { isMember } from '../../src/core/membership.js';
import { afterSwap, reserveChild, startRun, stepApplied } from '../../src/core/ramp-run.js';
import { type HomeService, type HomeState, HOME_REFRESH, MAX_VIEW_BLOCKS, renderHome, renderNotMember, shareBar } from '../../src/slack/render-home.js';
import { snapshotOf, weightRequestAt } from './request-fixture.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0);

function service(name: string, percent: number | string, over: Partial<HomeService> = {}): HomeService {
  return {
    name,
    recordName: `${name}.example.com`,
    share: typeof percent === 'number' ? { kubernetesPercent: percent, bothZero: false } : { unknown: percent },
    ...over,
  };
}

function state(services: HomeService[], over: Partial<HomeState> = {}): HomeState {
  return { services, cronJobs: [], history: [], now: T0, ...over };
}

type AnyBlock = { type: string; text?: { type: string; text: string }; elements?: Array<{ type: string; text: string | { text: string }; action_id?: string }> };

function texts(blocks: readonly unknown[]): string[] {
  return (blocks as AnyBlock[]).flatMap((b) => [
    ...(b.text ? [b.text.text] : []),
    ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : e.text.text)),
  ]);
}

/** Slack's limits for a Home view and its blocks (Block Kit reference). */
function expectValidView(blocks: readonly unknown[]): void {
  expect(blocks.length).toBeLessThanOrEqual(MAX_VIEW_BLOCKS);
  for (const b of blocks as AnyBlock[]) {
    expect(['section', 'context', 'actions', 'divider']).toContain(b.type);
    if (b.type === 'section') {
      expect(b.text!.text.length).toBeGreaterThan(0);
      expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    }
    if (b.type === 'context') {
      expect(b.elements!.length).toBeLessThanOrEqual(10);
      for (const e of b.elements!) expect((e.text as string).length).toBeLessThanOrEqual(3000);
    }
    if (b.type === 'actions') {
      expect(b.elements!.length).toBeLessThanOrEqual(25);
      for (const e of b.elements!) expect((e.text as { text: string }).text.length).toBeLessThanOrEqual(75);
    }
  }
}

describe('the App Home view', () => {
  it('draws each split as a bar of ten', () => {
    expect(shareBar(60)).toBe('▓▓▓▓▓▓░░░░ 60% Kubernetes');
    expect(shareBar(0)).toBe('░░░░░░░░░░ 0% Kubernetes');
    expect(shareBar(100)).toBe('▓▓▓▓▓▓▓▓▓▓ 100% Kubernetes');
    expect(shareBar(34)).toBe('▓▓▓░░░░░░░ 34% Kubernetes');
  });

  it('shows overall progress, each service with its open request, last change and versions, and a Refresh button', () => {
    const open: ChangeRequest = { ...weightRequestAt(T0, 'requested', { id: 7, to: { kubernetes: 40, ec2: 60 } }), message: { channel: 'C0APPROVALS', ts: '1.000100' } };
    const last: ChangeRequest = { ...weightRequestAt(T0 - 86_400_000, 'applied', { id: 5 }), decidedBy: 'U0BOB', finishedAt: T0 - 86_000_000 };
    const view = renderHome(
      state(
        [
          service('api', 30, { open: { request: open, link: 'https://x.slack.com/archives/C0APPROVALS/p1000100' }, last, versions: { service: 'api', checkedAt: T0 - 60_000, kubernetes: { version: 'abc123' }, ec2: { version: 'abc123' } } }),
          service('web', 100),
          service('www', 0, { versions: 'not-checked' }),
        ],
        { history: [open, last] },
      ),
    );
    expect(view.type).toBe('home');
    expectValidView(view.blocks);
    const all = texts(view.blocks).join('\n');
    expect(all).toContain('1 of 3 services fully on Kubernetes');
    expect(all).toContain(`Average Kubernetes share \`${shareBar(43)}\``);
    expect(all).toContain('*api* (api.example.com)\n`▓▓▓░░░░░░░ 30% Kubernetes`');
    expect(all).toContain('Open request <https://x.slack.com/archives/C0APPROVALS/p1000100|#7 (requested)> from <@U0ALICE>');
    expect(all).toMatch(/Last change #5: `api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%` by <@U0ALICE>, approved by <@U0BOB>, <!date\^/);
    expect(all).toMatch(/Versions: .*abc123/);
    expect(all).toContain('*Fully on Kubernetes (1)*: web');
    expect(all).toContain('Versions: not checked yet.');
    expect(all).toContain('*Last 2 change requests*');
    const button = (view.blocks as AnyBlock[]).flatMap((b) => b.elements ?? []).find((e) => e.action_id === HOME_REFRESH);
    expect(button?.text).toEqual({ type: 'plain_text', text: 'Refresh' });
  });

  it('an open request without a permalink still says where its message is', () => {
    const open: ChangeRequest = { ...weightRequestAt(T0, 'requested', { id: 9 }), message: { channel: 'C0APPROVALS', ts: '1.0001' } };
    const all = texts(renderHome(state([service('api', 10, { open: { request: open } })])).blocks).join('\n');
    expect(all).toContain('Open request #9 (requested) in <#C0APPROVALS>');
  });

  it('a service whose split could not be read is shown as unknown with the reason, and the rest is still there', () => {
    const view = renderHome(state([service('api', 'Route 53 did not answer within 5 s'), service('web', 40)]));
    expectValidView(view.blocks);
    const all = texts(view.blocks).join('\n');
    expect(all).toContain(':grey_question: split unknown: Route 53 did not answer within 5 s');
    expect(all).toContain('`▓▓▓▓░░░░░░ 40% Kubernetes`');
    expect(all).toContain('0 of 2 services fully on Kubernetes');
    expect(all).toContain('(of the 1 whose split could be read; 1 unknown)');
    // Unknown rows come first: they need a look.
    expect(all.indexOf('*api*')).toBeLessThan(all.indexOf('*web*'));
  });

  it('escapes what it did not write itself', () => {
    const all = texts(renderHome(state([service('api', '<!channel> broke')])).blocks).join('\n');
    expect(all).toContain('&lt;!channel&gt; broke');
    expect(all).not.toContain('<!channel>');
  });

  it('a change kind it does not know is named rather than misread', () => {
    const odd = { ...weightRequestAt(T0, 'applying', { id: 11 }), change: { kind: 'teleport', service: 'api' } } as unknown as ChangeRequest;
    const all = texts(renderHome(state([service('api', 25, { open: { request: odd } })], { history: [odd] })).blocks).join('\n');
    expect(all).toContain('Open request #11 (applying) from <@U0ALICE>: `api: teleport`');
    expect(all).toContain('*#11* `api: teleport`');
    expect(all).not.toContain('undefined');
  });

  it('an open ramp shows its plan and where it stands', () => {
    const plan = { steps: [10, 25, 50], bakeMs: 60_000, onFailure: 'rollback' as const, gates: [] };
    const snap = snapshotOf({ kubernetes: 0, ec2: 100 });
    let run = startRun(snap);
    run = stepApplied(reserveChild(run, 12), plan, 12, afterSwap(snap, { kubernetes: 10, ec2: 90 }), T0);
    const ramp = { ...weightRequestAt(T0, 'applying', { id: 11 }), change: { kind: 'ramp', service: 'api', from: { kubernetes: 0, ec2: 100 }, snapshot: snap, plan }, ramp: run } as ChangeRequest;
    const all = texts(renderHome(state([service('api', 10, { open: { request: ramp } })], { history: [ramp] })).blocks).join('\n');
    expect(all).toContain('`api: ramp Kubernetes 0% → 10% → 25% → 50%`');
    expect(all).toMatch(/Ramp #11: `▶ 10 +· 25 +· 50`/);
    expect(all).toContain('steps applied: 10% (#12)');
  });

  it('150 services: at most 100 blocks, every service not yet at 100% listed first, the rest summarised', () => {
    const services = Array.from({ length: 150 }, (_, i) => {
      const name = `service-${String(i).padStart(3, '0')}`;
      if (i % 10 === 0) return service(name, `Route 53 answered InvalidRecords for ${name}.example.com: the weighted record is missing`);
      const open = i % 7 === 0 ? { request: { ...weightRequestAt(T0, 'requested', { id: i }), change: { kind: 'weight' as const, service: name, from: { kubernetes: 10, ec2: 90 }, to: { kubernetes: 30, ec2: 70 }, snapshot: snapshotOf({ kubernetes: 10, ec2: 90 }) } }, link: `https://x.slack.com/archives/C0APPROVALS/p${i}` } : undefined;
      return service(name, i < 60 ? 100 : i % 100, { ...(open ? { open } : {}), versions: { service: name, checkedAt: T0, kubernetes: { version: 'v1.2.3' }, ec2: { error: 'connect ECONNREFUSED 10.0.0.1:8080' }, episode: { kind: 'unknown', since: T0 - 60_000 } } });
    });
    const history = Array.from({ length: 10 }, (_, i) => weightRequestAt(T0 - i * 1000, 'applied', { id: 200 - i, reason: 'x'.repeat(400) }));
    const cronJobs = Array.from({ length: 30 }, (_, i) => ({ job: `job-${i}`, placement: i % 2 ? ('ec2' as const) : { unknown: 'the Kubernetes API server did not answer' }, holder: i % 3 ? null : `ip-10-0-0-${i}`, lastRun: { name: `job-${i}-290000`, at: T0 - 3600_000, outcome: 'succeeded' } }));
    const view = renderHome(state(services, { history, cronJobs }));
    expectValidView(view.blocks);
    expect(JSON.stringify(view).length).toBeLessThan(250_000);
    const all = texts(view.blocks).join('\n');
    const moving = services.filter((s) => 'unknown' in s.share || s.share.kubernetesPercent < 100);
    const done = services.filter((s) => !('unknown' in s.share) && s.share.kubernetesPercent === 100);
    expect(moving.length).toBe(96);
    for (const s of moving) expect(all).toContain(`*${s.name}* (${s.name}.example.com)`);
    for (const s of done) expect(all).not.toContain(`*${s.name}* (`);
    expect(all).toContain(`*Fully on Kubernetes (54)*: ${done.map((s) => s.name).join(', ')}`);
    expect(all).toContain('*Not yet fully on Kubernetes (96)*');
    expect(all).toContain('54 of 150 services fully on Kubernetes');
    // Listed before the summary of those already done.
    expect(all.indexOf('*Not yet fully on Kubernetes')).toBeLessThan(all.indexOf('*Fully on Kubernetes'));
    expect(all).toContain('*job-29*');
  });

  it('more services than fit: says how many were left out instead of exceeding the limit', () => {
    const long = 'x'.repeat(2000);
    const services = Array.from({ length: 150 }, (_, i) => service(`s${i}`, `could not be read: ${long}`));
    const view = renderHome(state(services));
    expectValidView(view.blocks);
    expect(view.blocks.length).toBe(MAX_VIEW_BLOCKS);
    expect(texts(view.blocks).join('\n')).toMatch(/…and \d+ more not yet on Kubernetes/);
  });

  it('a cron job’s last witnessed run says which side ran it', () => {
    const base = { placement: 'ec2' as const, holder: null };
    const all = texts(
      renderHome(
        state([], {
          cronJobs: [
            { ...base, job: 'to-ec2', witness: { job: 'to-ec2', requestId: 3, movedTo: 'ec2', at: T0, holder: 'ip-10-0-1-5' } },
            { ...base, job: 'to-k8s', witness: { job: 'to-k8s', requestId: 4, movedTo: 'kubernetes', at: T0, run: { name: 'to-k8s-1', createdAt: T0, outcome: 'succeeded' }, holder: null } },
            { ...base, job: 'k8s-silent', witness: { job: 'k8s-silent', requestId: 5, movedTo: 'kubernetes', at: T0 } },
            { ...base, job: 'still-k8s', witness: { job: 'still-k8s', requestId: 6, movedTo: 'ec2', at: T0, run: { name: 'still-k8s-9', createdAt: T0, outcome: 'running' }, holder: 'k8s pod' } },
          ],
        }),
      ).blocks,
    ).join('\n');
    expect(all).toMatch(/after move #3 to EC2, looked <!date[^>]*>\): Kubernetes started nothing, so cron\.d on EC2 had the run; the lock was held by ip-10-0-1-5/);
    expect(all).toContain('Kubernetes ran `to-k8s-1` (succeeded); the lock was free');
    expect(all).toContain(':warning: Kubernetes started no Job; the lock could not be read');
    expect(all).toContain('Kubernetes ran `still-k8s-9` (running) :warning: after the move to EC2; the lock was held by k8s pod');
  });

  it('no services configured: says how to add them', () => {
    const view = renderHome(state([]));
    expectValidView(view.blocks);
    expect(texts(view.blocks).join('\n')).toContain('No services are configured');
  });

  it('a non-member view names no service', () => {
    const view = renderNotMember();
    expect(texts(view.blocks).join('\n')).toContain('You are not a member of this migration');
  });
});

describe('who may see the dashboard', () => {
  const groups = new Map([['S0OPS', new Set(['U0DAVE'])]]);
  it('approvers and requesters, named or by group; anyone when everyone may request', () => {
    const rules = { approvers: ['U0BOB'], requesters: ['U0ALICE', 'S0OPS'] };
    expect(isMember('U0BOB', rules, groups)).toBe(true);
    expect(isMember('U0ALICE', rules, groups)).toBe(true);
    expect(isMember('U0DAVE', rules, groups)).toBe(true);
    expect(isMember('U0MALLORY', rules, groups)).toBe(false);
    expect(isMember('U0MALLORY', { approvers: ['U0BOB'], requesters: [] }, groups)).toBe(true);
  });
});
