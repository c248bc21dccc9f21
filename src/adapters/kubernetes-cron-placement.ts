import { BatchV1Api, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig, V1CronJob, V1Job } from '@kubernetes/client-node';
import { VerifyFailed } from '../core/errors.js';
import type { CronJobState, CronPlacement, JobSummary, KubeObjectRef } from '../core/ports.js';
import { apiServerUrl, DEFAULT_KUBE_TIMEOUT_MS, requestOptions, translateKubeError } from './kubernetes-client.js';
import type { KubeCall } from './kubernetes-client.js';

export interface KubernetesCronPlacementOptions {
  /** Deadline per API request; default DEFAULT_KUBE_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/** Jobs are listed in pages so a namespace full of finished Jobs does not arrive as one huge body. */
const JOB_PAGE_SIZE = 500;

export class KubernetesCronPlacement implements CronPlacement {
  private readonly batch: BatchV1Api;
  private readonly server: string;
  private readonly timeoutMs: number;

  constructor(kc: KubeConfig, opts: KubernetesCronPlacementOptions = {}) {
    this.batch = kc.makeApiClient(BatchV1Api);
    this.server = apiServerUrl(kc);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS;
  }

  async read(ref: KubeObjectRef): Promise<CronJobState> {
    try {
      const cj = await this.batch.readNamespacedCronJob({ name: ref.name, namespace: ref.namespace }, requestOptions(this.timeoutMs));
      return toState(cj);
    } catch (err) {
      throw translateKubeError(err, this.call('get', 'cronjobs', ref));
    }
  }

  async setSuspended(ref: KubeObjectRef, suspended: boolean): Promise<CronJobState> {
    try {
      // A merge patch touches spec.suspend and nothing else, and on a missing CronJob it is a 404,
      // never a create: the pipeline owns everything else in the spec.
      await this.batch.patchNamespacedCronJob(
        { name: ref.name, namespace: ref.namespace, body: { spec: { suspend: suspended } } },
        requestOptions(this.timeoutMs, PatchStrategy.MergePatch),
      );
    } catch (err) {
      throw translateKubeError(err, this.call('patch', 'cronjobs', ref));
    }
    // Read back instead of trusting the patch response: a GitOps controller with self-heal
    // (Argo CD, Flux) may put the old value back, and the person in Slack must learn that now.
    const state = await this.read(ref);
    if (state.suspended !== suspended) {
      throw new VerifyFailed(
        `CronJob \`${ref.namespace}/${ref.name}\` still has spec.suspend=${state.suspended} after the bot set it to ${suspended}; ` +
          'something else (a GitOps controller with self-heal, or the delivery pipeline) is managing that field.',
      );
    }
    return state;
  }

  async jobsSince(ref: KubeObjectRef, since: Date): Promise<JobSummary[]> {
    // creationTimestamp has whole-second precision, so a Job created 300 ms after `since`
    // can carry a timestamp before it: compare at the API's own precision.
    const cutoff = Math.floor(since.getTime() / 1000) * 1000;
    const out: JobSummary[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await this.batch.listNamespacedJob(
          { namespace: ref.namespace, limit: JOB_PAGE_SIZE, ...(cont ? { _continue: cont } : {}) },
          requestOptions(this.timeoutMs),
        );
        for (const job of page.items) {
          const summary = ownedSummary(job, ref.name);
          if (summary && summary.createdAt.getTime() >= cutoff) out.push(summary);
        }
        cont = page.metadata?._continue || undefined;
      } while (cont);
    } catch (err) {
      throw translateKubeError(err, this.call('list', 'jobs', { namespace: ref.namespace }));
    }
    return out.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.name.localeCompare(b.name));
  }

  private call(verb: KubeCall['verb'], resource: 'cronjobs' | 'jobs', ref: { namespace: string; name?: string }): KubeCall {
    return {
      kind: resource === 'cronjobs' ? 'CronJob' : 'Job',
      resource,
      group: 'batch',
      verb,
      namespace: ref.namespace,
      ...(ref.name === undefined ? {} : { name: ref.name }),
      server: this.server,
      timeoutMs: this.timeoutMs,
    };
  }
}

function toState(cj: V1CronJob): CronJobState {
  return {
    suspended: cj.spec?.suspend === true,
    schedule: cj.spec?.schedule ?? '',
    timeZone: cj.spec?.timeZone ?? null,
    lastScheduleTime: asDate(cj.status?.lastScheduleTime),
    resourceVersion: cj.metadata?.resourceVersion ?? '',
    active: (cj.status?.active ?? []).map((r) => r.name).filter((n): n is string => typeof n === 'string'),
  };
}

/** Matched by owner name rather than uid: a CronJob deleted and recreated loses its Jobs anyway (cascade). */
function ownedSummary(job: V1Job, cronJobName: string): JobSummary | null {
  const owned = (job.metadata?.ownerReferences ?? []).some((o) => o.kind === 'CronJob' && o.name === cronJobName);
  const name = job.metadata?.name;
  const createdAt = asDate(job.metadata?.creationTimestamp);
  if (!owned || !name || !createdAt) return null;
  return { name, createdAt, outcome: outcome(job) };
}

function outcome(job: V1Job): JobSummary['outcome'] {
  const conditions = job.status?.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  // SuccessCriteriaMet / FailureTarget come before Complete / Failed while pods terminate (1.31+).
  if (has('Complete') || has('SuccessCriteriaMet')) return 'succeeded';
  if (has('Failed') || has('FailureTarget')) return 'failed';
  // Older API servers and some fakes only fill the counters.
  if ((job.status?.succeeded ?? 0) > 0 && !(job.status?.active ?? 0)) return 'succeeded';
  return 'running';
}

/** The client turns date-time fields into Date objects; be lenient in case one arrives as a string. */
function asDate(v: Date | string | undefined | null): Date | null {
  if (v === undefined || v === null) return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}
