import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesCronPlacement } from '../../src/adapters/kubernetes-cron-placement.js';
import { loadKubeConfig } from '../../src/adapters/kubernetes-client.js';
import { ConfigInvalid, Forbidden, NotFound, StaleChange, Unreachable, VerifyFailed } from '../../src/core/errors.js';
import { startKubernetesStandIn, type KubernetesStandIn } from '../support/kubernetes-stand-in.js';

const ref = { namespace: 'jobs', name: 'nightly-report' };

let standIn: KubernetesStandIn;
let kc: KubeConfig;
let placement: KubernetesCronPlacement;

beforeAll(async () => {
  standIn = await startKubernetesStandIn();
  kc = new KubeConfig();
  kc.loadFromFile(standIn.kubeconfig());
  placement = new KubernetesCronPlacement(kc, { timeoutMs: 1_000 });
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.calls.length = 0;
  standIn.latencyMs = 0;
  standIn.allow('jobs');
  standIn.putCronJob({
    ...ref,
    schedule: '15 3 * * *',
    timeZone: 'Europe/Berlin',
    suspend: false,
    lastScheduleTime: '2025-03-01T02:15:00Z',
    active: ['nightly-report-29012345'],
  });
});

afterEach(async () => {
  await standIn.up();
});

/** Runs `fn` with KUBECONFIG and HOME replaced, restoring both afterwards. */
function withEnv<T>(env: { KUBECONFIG?: string; HOME?: string }, fn: () => T): T {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('loadKubeConfig', () => {
  it('is ConfigInvalid when there is no kubeconfig at all (instead of the client inventing localhost:8080)', () => {
    // Only meaningful outside a pod: in one, the service account would be found.
    if (existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return;
    const home = mkdtempSync(join(tmpdir(), 'no-kube-'));
    try {
      const err = (() => {
        try {
          withEnv({ KUBECONFIG: undefined, HOME: home }, () => loadKubeConfig());
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ConfigInvalid);
      expect((err as Error).message).toMatch(/no kubeconfig found/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('turns the client refusing a plain-http server without insecure-skip-tls-verify into ConfigInvalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-http-'));
    try {
      const file = join(dir, 'config');
      writeFileSync(file, readFileSync(standIn.kubeconfig(), 'utf8').replace(/\n\s*insecure-skip-tls-verify: true/, ''));
      const kcNoSkip = withEnv({ KUBECONFIG: file }, () => loadKubeConfig());
      const err = await new KubernetesCronPlacement(kcNoSkip).read(ref).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigInvalid);
      expect((err as Error).message).toMatch(/insecure-skip-tls-verify/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is Forbidden with a credentials hint when the token is rejected (401)', async () => {
    const kcBad = withEnv({ KUBECONFIG: standIn.kubeconfig({ token: 'expired' }) }, () => loadKubeConfig());
    const err = await new KubernetesCronPlacement(kcBad).read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Forbidden);
    expect((err as Forbidden).message).toMatch(/rejected the bot's credentials/);
  });
});

describe('KubernetesCronPlacement.read', () => {
  it('reads an active CronJob through the real client', async () => {
    const state = await placement.read(ref);
    expect(state).toEqual({
      suspended: false,
      schedule: '15 3 * * *',
      timeZone: 'Europe/Berlin',
      lastScheduleTime: new Date('2025-03-01T02:15:00Z'),
      resourceVersion: standIn.cronJob(ref.namespace, ref.name)?.metadata.resourceVersion,
      active: ['nightly-report-29012345'],
    });
  });

  it('reads a suspended CronJob that has never run', async () => {
    standIn.putCronJob({ namespace: 'jobs', name: 'weekly', schedule: '0 4 * * 1', suspend: true });
    const state = await placement.read({ namespace: 'jobs', name: 'weekly' });
    expect(state).toMatchObject({ suspended: true, schedule: '0 4 * * 1', timeZone: null, lastScheduleTime: null, active: [] });
  });

  it('loads the kubeconfig from KUBECONFIG like the bot does', async () => {
    const fromEnv = new KubernetesCronPlacement(withEnv({ KUBECONFIG: standIn.kubeconfig() }, () => loadKubeConfig()));
    expect((await fromEnv.read(ref)).schedule).toBe('15 3 * * *');
  });

  it('is NotFound for a CronJob that does not exist, naming it and who owns CronJobs', async () => {
    const err = await placement.read({ namespace: 'jobs', name: 'ghost' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFound);
    expect((err as NotFound).message).toContain('CronJob `jobs/ghost`');
    expect((err as NotFound).hint).toMatch(/delivery pipeline/);
    expect((err as NotFound).hint).toMatch(/never creates/);
  });

  it('is Forbidden on a 403, with the RBAC rule that is missing', async () => {
    standIn.forbid('jobs');
    const err = await placement.read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Forbidden);
    expect((err as Forbidden).message).toContain('cannot get resource "cronjobs" in API group "batch" in the namespace "jobs"');
    expect((err as Forbidden).hint).toMatch(/`get` verb on `cronjobs` \(API group `batch`\) in namespace `jobs`/);
    expect(standIn.calls.at(-1)?.status).toBe(403);
  });

  it('is Unreachable when the API server is down, without the client noise', async () => {
    await standIn.down();
    const err = await placement.read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Unreachable).message).toBe(`The Kubernetes API server at ${standIn.url} is unreachable (connection refused).`);
  });

  it('is Unreachable when the API server does not answer within the deadline', async () => {
    standIn.latencyMs = 3_000;
    const started = Date.now();
    const err = await placement.read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Unreachable).message).toContain('timed out after 1 s');
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('never leaks the ApiException text (headers, raw body) on other errors', async () => {
    standIn.failNext(500);
    const err = await placement.read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Error).message).not.toMatch(/Headers|HTTP-Code|audit-id/);
  });
});

describe('KubernetesCronPlacement.setSuspended', () => {
  it('suspends with a merge patch touching only spec.suspend, then reads back', async () => {
    const before = standIn.cronJob(ref.namespace, ref.name);
    const state = await placement.setSuspended(ref, true);

    expect(state.suspended).toBe(true);
    expect(state.schedule).toBe('15 3 * * *');
    expect(Number(state.resourceVersion)).toBeGreaterThan(Number(before?.metadata.resourceVersion));

    const patches = standIn.callsTo({ verb: 'patch' });
    expect(patches).toHaveLength(1);
    expect(patches[0]?.contentType).toBe('application/merge-patch+json');
    expect(patches[0]?.body).toEqual({ spec: { suspend: true } });
    // Read back after the patch.
    expect(standIn.calls.at(-1)?.verb).toBe('get');

    const after = standIn.cronJob(ref.namespace, ref.name);
    expect(after?.spec).toEqual({ ...before?.spec, suspend: true });
    expect(after?.status).toEqual(before?.status);
  });

  it('unsuspends again and keeps the schedule and time zone', async () => {
    standIn.putCronJob({ ...ref, schedule: '15 3 * * *', timeZone: 'Europe/Berlin', suspend: true });
    const state = await placement.setSuspended(ref, false);
    expect(state).toMatchObject({ suspended: false, schedule: '15 3 * * *', timeZone: 'Europe/Berlin' });
    expect(standIn.cronJob(ref.namespace, ref.name)?.spec.suspend).toBe(false);
    expect(standIn.callsTo({ verb: 'patch' })[0]?.body).toEqual({ spec: { suspend: false } });
  });

  it('is NotFound and creates nothing when the CronJob does not exist', async () => {
    const err = await placement.setSuspended({ namespace: 'jobs', name: 'ghost' }, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFound);
    expect(standIn.cronJob('jobs', 'ghost')).toBeUndefined();
  });

  it('is Forbidden when the bot may read but not patch, naming the patch verb', async () => {
    standIn.forbid('jobs', { verbs: ['patch'] });
    const err = await placement.setSuspended(ref, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Forbidden);
    expect((err as Forbidden).hint).toContain('`patch` verb on `cronjobs`');
    expect(standIn.cronJob(ref.namespace, ref.name)?.spec.suspend).toBe(false);
  });

  it('is Unreachable when the API server is down', async () => {
    await standIn.down();
    await expect(placement.setSuspended(ref, true)).rejects.toBeInstanceOf(Unreachable);
  });

  it('reports a value put back by someone else as VerifyFailed', async () => {
    // Something (a GitOps controller) reverts every change the moment it lands.
    const original = standIn.handle.bind(standIn);
    standIn.handle = async (req, res) => {
      await original(req, res);
      if (req.method === 'PATCH') standIn.putCronJob({ ...ref, schedule: '15 3 * * *', suspend: false });
    };
    try {
      await expect(placement.setSuspended(ref, true)).rejects.toBeInstanceOf(VerifyFailed);
    } finally {
      standIn.handle = original;
    }
  });
});

describe('the stand-in itself, through the real client', () => {
  it('refuses a merge patch carrying a stale resourceVersion with 409, which becomes StaleChange', async () => {
    const { BatchV1Api, PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
    const { translateKubeError, apiServerUrl } = await import('../../src/adapters/kubernetes-client.js');
    const batch = kc.makeApiClient(BatchV1Api);
    const err = await batch
      .patchNamespacedCronJob(
        { ...ref, body: { metadata: { resourceVersion: '1' }, spec: { suspend: true } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch((e: unknown) => translateKubeError(e, { kind: 'CronJob', resource: 'cronjobs', group: 'batch', verb: 'patch', ...ref, server: apiServerUrl(kc) }));
    expect(err).toBeInstanceOf(StaleChange);
    expect(standIn.cronJob(ref.namespace, ref.name)?.spec.suspend).toBe(false);
  });

  it('applies a JSON Patch (the client default without the header)', async () => {
    const { BatchV1Api } = await import('@kubernetes/client-node');
    const batch = kc.makeApiClient(BatchV1Api);
    const rv = standIn.cronJob(ref.namespace, ref.name)?.metadata.resourceVersion;
    await batch.patchNamespacedCronJob({ ...ref, body: [{ op: 'replace', path: '/spec/suspend', value: true }] });
    expect(standIn.calls.at(-1)?.contentType).toBe('application/json-patch+json');
    expect(standIn.cronJob(ref.namespace, ref.name)?.spec.suspend).toBe(true);
    expect(standIn.cronJob(ref.namespace, ref.name)?.metadata.resourceVersion).not.toBe(rv);
  });

  it('keeps the resourceVersion on a patch that changes nothing', async () => {
    const rv = standIn.cronJob(ref.namespace, ref.name)?.metadata.resourceVersion;
    await placement.setSuspended(ref, false);
    expect(standIn.cronJob(ref.namespace, ref.name)?.metadata.resourceVersion).toBe(rv);
  });
});

describe('KubernetesCronPlacement.jobsSince', () => {
  const since = new Date('2025-03-01T00:00:00Z');

  beforeEach(() => {
    standIn.putJob({ namespace: 'jobs', name: 'nightly-report-old', ownerCronJob: 'nightly-report', createdAt: '2025-02-28T02:15:00Z', outcome: 'succeeded' });
    standIn.putJob({ namespace: 'jobs', name: 'nightly-report-c', ownerCronJob: 'nightly-report', createdAt: '2025-03-03T02:15:04Z', outcome: 'running' });
    standIn.putJob({ namespace: 'jobs', name: 'nightly-report-a', ownerCronJob: 'nightly-report', createdAt: '2025-03-01T02:15:02Z', outcome: 'succeeded' });
    standIn.putJob({ namespace: 'jobs', name: 'nightly-report-b', ownerCronJob: 'nightly-report', createdAt: '2025-03-02T02:15:03Z', outcome: 'failed' });
    standIn.putJob({ namespace: 'jobs', name: 'weekly-1', ownerCronJob: 'weekly', createdAt: '2025-03-02T04:00:00Z', outcome: 'succeeded' });
    standIn.putJob({ namespace: 'jobs', name: 'manual-backfill', createdAt: '2025-03-02T09:00:00Z', outcome: 'succeeded' });
    standIn.putJob({ namespace: 'other', name: 'nightly-report-x', ownerCronJob: 'nightly-report', createdAt: '2025-03-02T02:15:00Z', outcome: 'succeeded' });
  });

  it('keeps only Jobs owned by the CronJob created since the cut-off, oldest first, with outcomes', async () => {
    const jobs = await placement.jobsSince(ref, since);
    expect(jobs).toEqual([
      { name: 'nightly-report-a', createdAt: new Date('2025-03-01T02:15:02Z'), outcome: 'succeeded' },
      { name: 'nightly-report-b', createdAt: new Date('2025-03-02T02:15:03Z'), outcome: 'failed' },
      { name: 'nightly-report-c', createdAt: new Date('2025-03-03T02:15:04Z'), outcome: 'running' },
    ]);
  });

  it('includes a Job created in the same second as the cut-off (timestamps have whole seconds)', async () => {
    const jobs = await placement.jobsSince(ref, new Date('2025-03-02T02:15:03.400Z'));
    expect(jobs.map((j) => j.name)).toEqual(['nightly-report-b', 'nightly-report-c']);
  });

  it('follows list pages', async () => {
    for (let i = 0; i < 520; i++) {
      standIn.putJob({ namespace: 'jobs', name: `filler-${String(i).padStart(3, '0')}`, createdAt: '2025-03-02T00:00:00Z', outcome: 'succeeded' });
    }
    const jobs = await placement.jobsSince(ref, since);
    expect(jobs).toHaveLength(3);
    expect(standIn.callsTo({ verb: 'list', resource: 'jobs' }).length).toBeGreaterThan(1);
    for (let i = 0; i < 520; i++) standIn.remove('jobs', 'jobs', `filler-${String(i).padStart(3, '0')}`);
  });

  it('is empty when nothing ran since', async () => {
    expect(await placement.jobsSince(ref, new Date('2025-04-01T00:00:00Z'))).toEqual([]);
  });

  it('is Forbidden when Jobs may not be listed, naming list on jobs', async () => {
    standIn.forbid('jobs', { resources: ['jobs'] });
    const err = await placement.jobsSince(ref, since).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Forbidden);
    expect((err as Forbidden).hint).toContain('`list` verb on `jobs`');
  });
});
