/**
 * A Kubernetes API server stand-in: plain HTTP on 127.0.0.1 speaking the REST/JSON protocol the
 * way @kubernetes/client-node 1.x sends it, so the real client runs unmodified against it
 * (`KubeConfig.loadFromFile(standIn.kubeconfig())`). Served: batch/v1 cronjobs and jobs,
 * apps/v1 deployments and replicasets; GET, LIST (namespaced and across namespaces) and PATCH.
 *
 * Wire details, checked against the client's generated code and the API server's behaviour:
 * - The client refuses an `http://` server unless the cluster has `insecure-skip-tls-verify: true`
 *   ("HTTP protocol is not allowed when skipTLSVerify is not set or false"), so kubeconfig() sets it.
 * - PATCH Content-Type decides the semantics: the client defaults to application/json-patch+json
 *   and only sends a merge patch when told to (setHeaderOptions / PatchStrategy.MergePatch).
 *   Merge patch is RFC 7386; JSON Patch supports add/replace/remove/test; strategic merge is
 *   approximated as a merge patch in which lists of objects with a `name` merge by name.
 *   Server-side apply is answered 415.
 * - As on a real API server, patches on the main resource ignore `status` (it is a
 *   subresource), a patch that changes nothing keeps the resourceVersion, a change bumps it
 *   (one counter for the whole store) and bumps metadata.generation when spec changed, and a
 *   patch whose result carries a metadata.resourceVersion other than the current one is a 409.
 * - Errors are `Status` objects; messages copy the API server's wording, e.g.
 *   `cronjobs.batch "x" not found` and `cronjobs.batch "x" is forbidden: User "…" cannot get
 *   resource "cronjobs" in API group "batch" in the namespace "jobs"`. The client puts the raw
 *   body text in ApiException.body.
 * - List items carry no kind/apiVersion (the API server omits them); `limit`/`continue` page.
 * - Timestamps are RFC 3339 with whole seconds, as the API server writes them.
 */
import { recordApiUse } from './api-usage.js';
import { text as readText } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenOnLoopback } from './free-port.js';

export type Json = any;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
    [field: string]: Json;
  };
  spec?: Json;
  status?: Json;
}

export type Resource = 'cronjobs' | 'jobs' | 'deployments' | 'replicasets';
export type Verb = 'get' | 'list' | 'patch';

const RESOURCES: Record<Resource, { group: 'batch' | 'apps'; kind: string }> = {
  cronjobs: { group: 'batch', kind: 'CronJob' },
  jobs: { group: 'batch', kind: 'Job' },
  deployments: { group: 'apps', kind: 'Deployment' },
  replicasets: { group: 'apps', kind: 'ReplicaSet' },
};

export const STAND_IN_TOKEN = 'stand-in-token-strangler';
export const STAND_IN_USER = 'system:serviceaccount:strangler:strangler';

export interface StandInCall {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  /** Parsed JSON body of a PATCH (the raw text when it is not JSON). */
  readonly body: Json;
  readonly verb: Verb | 'other';
  readonly resource: Resource | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly at: number;
  /** HTTP status answered, filled in once the response is written (0 if the client went away first). */
  status: number;
}

export interface PutCronJobInput {
  namespace: string;
  name: string;
  schedule: string;
  timeZone?: string;
  suspend?: boolean;
  lastScheduleTime?: Date | string;
  /** Names of the Jobs the CronJob reports in status.active. */
  active?: string[];
  labels?: Record<string, string>;
  image?: string;
}

export interface PutJobInput {
  namespace: string;
  name: string;
  /** Name of the owning CronJob; the owner reference takes its uid when it exists. */
  ownerCronJob?: string;
  createdAt: Date | string;
  outcome: 'running' | 'succeeded' | 'failed';
  labels?: Record<string, string>;
}

export interface ContainerInput {
  name: string;
  image: string;
}

export interface PutDeploymentInput {
  namespace: string;
  name: string;
  containers: ContainerInput[];
  replicas: number;
  /** Pods already on the current template; default `replicas` (not rolling). */
  updatedReplicas?: number;
  availableReplicas?: number;
  generation?: number;
  /** Default `generation`; lower means the controller has not seen the latest template yet. */
  observedGeneration?: number;
  /**
   * Containers of the previous revision. With it, a rollout (updatedReplicas < replicas) also
   * gets the old ReplicaSet holding the remaining pods, as the deployment controller leaves it.
   */
  previousContainers?: ContainerInput[];
  labels?: Record<string, string>;
}

export interface ForbidOptions {
  /** Only these verbs are forbidden (default all). */
  verbs?: Verb[];
  /** Only these resources are forbidden (default all). */
  resources?: Resource[];
}

export interface KubernetesStandInOptions {
  token?: string;
  latencyMs?: number;
}

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Json,
  ) {
    super(message);
  }
}

export class KubernetesStandIn {
  readonly calls: StandInCall[] = [];
  /** Delay before each answer. */
  latencyMs: number;
  readonly token: string;

  private readonly objects = new Map<string, KubeObject>();
  private readonly forbidden = new Map<string, ForbidOptions>();
  private readonly tempDirs: string[] = [];
  private readonly failures: Array<{ code: number; reason: string }> = [];
  private revision = 1000;
  private isUp = true;

  constructor(
    private readonly server: Server,
    readonly port: number,
    opts: KubernetesStandInOptions,
  ) {
    this.token = opts.token ?? STAND_IN_TOKEN;
    this.latencyMs = opts.latencyMs ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  // ------------------------------------------------------------------ seeding and inspection

  putCronJob(input: PutCronJobInput): KubeObject {
    const existing = this.objects.get(key('cronjobs', input.namespace, input.name));
    const obj: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: this.meta(input.namespace, input.name, existing, input.labels),
      spec: {
        schedule: input.schedule,
        ...(input.timeZone === undefined ? {} : { timeZone: input.timeZone }),
        concurrencyPolicy: 'Forbid',
        suspend: input.suspend ?? false,
        jobTemplate: {
          metadata: { creationTimestamp: null },
          spec: {
            backoffLimit: 6,
            template: {
              metadata: { creationTimestamp: null },
              spec: {
                containers: [{ name: 'job', image: input.image ?? 'registry.example.com/jobs:1.0.0', imagePullPolicy: 'IfNotPresent' }],
                restartPolicy: 'OnFailure',
              },
            },
          },
        },
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
      },
      status: {},
    };
    if (input.lastScheduleTime !== undefined) obj.status.lastScheduleTime = stamp(input.lastScheduleTime);
    if (input.active?.length) {
      obj.status.active = input.active.map((name) => ({
        kind: 'Job',
        namespace: input.namespace,
        name,
        uid: this.objects.get(key('jobs', input.namespace, name))?.metadata.uid ?? randomUUID(),
        apiVersion: 'batch/v1',
        resourceVersion: String(this.revision),
      }));
    }
    return this.store('cronjobs', obj);
  }

  putJob(input: PutJobInput): KubeObject {
    const created = stamp(input.createdAt);
    const existing = this.objects.get(key('jobs', input.namespace, input.name));
    const metadata = this.meta(input.namespace, input.name, existing, input.labels);
    metadata.creationTimestamp = created;
    if (input.ownerCronJob !== undefined) {
      const owner = this.objects.get(key('cronjobs', input.namespace, input.ownerCronJob));
      metadata.annotations = { 'batch.kubernetes.io/cronjob-scheduled-timestamp': created };
      metadata.ownerReferences = [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: input.ownerCronJob,
          uid: owner?.metadata.uid ?? randomUUID(),
          controller: true,
          blockOwnerDeletion: true,
        },
      ];
    }
    const startTime = created;
    const endTime = stamp(new Date(Date.parse(created) + 60_000));
    const common = { startTime, ready: 0, terminating: 0, uncountedTerminatedPods: {} };
    const condition = (type: string, reason: string, message: string) => ({
      type,
      status: 'True',
      lastProbeTime: endTime,
      lastTransitionTime: endTime,
      reason,
      message,
    });
    const status =
      input.outcome === 'running'
        ? { ...common, active: 1, ready: 1 }
        : input.outcome === 'succeeded'
          ? {
              ...common,
              completionTime: endTime,
              succeeded: 1,
              conditions: [
                condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
                condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
              ],
            }
          : {
              ...common,
              failed: 7,
              conditions: [
                condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
                condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
              ],
            };
    const obj: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata,
      spec: {
        parallelism: 1,
        completions: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        template: { spec: { containers: [{ name: 'job', image: 'registry.example.com/jobs:1.0.0' }], restartPolicy: 'OnFailure' } },
      },
      status,
    };
    return this.store('jobs', obj);
  }

  putDeployment(input: PutDeploymentInput): KubeObject {
    const { namespace, name, replicas } = input;
    const updated = input.updatedReplicas ?? replicas;
    const generation = input.generation ?? 1;
    const observed = input.observedGeneration ?? generation;
    const rolling = input.previousContainers !== undefined && updated < replicas;
    const oldReplicas = rolling ? replicas - updated : 0;
    const available = input.availableReplicas ?? updated + oldReplicas;
    const revision = input.previousContainers ? 2 : 1;
    const selector = { app: name };
    const existing = this.objects.get(key('deployments', namespace, name));
    const metadata = this.meta(namespace, name, existing, { app: name, ...input.labels });
    metadata.generation = generation;
    metadata.annotations = { 'deployment.kubernetes.io/revision': String(revision) };
    const obj: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: { metadata: { labels: { ...selector } }, spec: { containers: input.containers.map(container) } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {
        observedGeneration: observed,
        replicas: updated + oldReplicas,
        updatedReplicas: updated,
        readyReplicas: available,
        availableReplicas: available,
        ...(replicas > available ? { unavailableReplicas: replicas - available } : {}),
        conditions: [
          { type: 'Available', status: available >= Math.ceil(replicas * 0.75) ? 'True' : 'False', reason: 'MinimumReplicasAvailable' },
          {
            type: 'Progressing',
            status: 'True',
            reason: updated < replicas || observed < generation ? 'ReplicaSetUpdated' : 'NewReplicaSetAvailable',
          },
        ],
      },
    };
    const stored = this.store('deployments', obj);
    for (const [k, rs] of this.objects) {
      if (k.startsWith(`replicasets|${namespace}|`) && rs.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name)) {
        this.objects.delete(k);
      }
    }
    this.putReplicaSet(stored, input.containers, revision, updated);
    if (input.previousContainers) this.putReplicaSet(stored, input.previousContainers, revision - 1, oldReplicas);
    return stored;
  }

  cronJob(namespace: string, name: string): KubeObject | undefined {
    return this.get('cronjobs', namespace, name);
  }

  job(namespace: string, name: string): KubeObject | undefined {
    return this.get('jobs', namespace, name);
  }

  deployment(namespace: string, name: string): KubeObject | undefined {
    return this.get('deployments', namespace, name);
  }

  replicaSets(namespace: string): KubeObject[] {
    return this.list('replicasets', namespace, undefined);
  }

  get(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    const obj = this.objects.get(key(resource, namespace, name));
    return obj === undefined ? undefined : clone(obj);
  }

  remove(resource: Resource, namespace: string, name: string): boolean {
    return this.objects.delete(key(resource, namespace, name));
  }

  /** Calls that reached a resource, optionally filtered. */
  callsTo(filter: { verb?: Verb; resource?: Resource; name?: string } = {}): StandInCall[] {
    return this.calls.filter(
      (c) =>
        (filter.verb === undefined || c.verb === filter.verb) &&
        (filter.resource === undefined || c.resource === filter.resource) &&
        (filter.name === undefined || c.name === filter.name),
    );
  }

  // ------------------------------------------------------------------ faults

  /** 403 for everything (or the given verbs/resources) in `namespace`; '*' forbids cluster-scope lists. */
  forbid(namespace: string, opts: ForbidOptions = {}): void {
    this.forbidden.set(namespace, opts);
  }

  allow(namespace: string): void {
    this.forbidden.delete(namespace);
  }

  /** The next request is answered with this status (e.g. 500, 503, 429) instead of being served. */
  failNext(code: number, reason = code === 429 ? 'TooManyRequests' : code >= 500 ? 'InternalError' : 'BadRequest'): void {
    this.failures.push({ code, reason });
  }

  /** Stop listening (and drop open connections) so clients get ECONNREFUSED; the port is kept for up(). */
  async down(): Promise<void> {
    if (!this.isUp) return;
    this.isUp = false;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async up(): Promise<void> {
    if (this.isUp) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.isUp = true;
  }

  /** Writes a kubeconfig pointing at the stand-in (token user) to a temp file and returns its path. */
  kubeconfig(opts: { token?: string; namespace?: string } = {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'kubernetes-stand-in-'));
    this.tempDirs.push(dir);
    const file = join(dir, 'kubeconfig.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: stand-in',
        '    cluster:',
        `      server: ${this.url}`,
        '      insecure-skip-tls-verify: true',
        'users:',
        '  - name: strangler',
        '    user:',
        `      token: ${JSON.stringify(opts.token ?? this.token)}`,
        'contexts:',
        '  - name: stand-in',
        '    context:',
        '      cluster: stand-in',
        '      user: strangler',
        `      namespace: ${JSON.stringify(opts.namespace ?? 'default')}`,
        'current-context: stand-in',
        '',
      ].join('\n'),
    );
    return file;
  }

  async close(): Promise<void> {
    await this.down();
    for (const dir of this.tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------ HTTP

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const raw = await readText(req);
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    const route = parseRoute(url.pathname);
    const name = route?.name;
    const verb: Verb | 'other' = req.method === 'GET' ? (name === undefined ? 'list' : 'get') : req.method === 'PATCH' && name !== undefined ? 'patch' : 'other';
    const call: StandInCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      body: raw ? parseJson(raw) : undefined,
      verb,
      resource: route?.resource,
      namespace: route?.namespace,
      name,
      at: Date.now(),
      status: 0,
    };
    this.calls.push(call);
    recordApiUse(`kubernetes ${rbacUse(req.method ?? 'GET', url, name)}`);
    if (this.latencyMs > 0) await sleep(this.latencyMs);

    let code = 200;
    let payload: Json;
    try {
      payload = this.serve(req, url, raw, contentType, route, verb);
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      code = err.code;
      payload = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: err.message,
        reason: err.reason,
        ...(err.details === undefined ? {} : { details: err.details }),
        code: err.code,
      };
    }
    if (res.destroyed) return;
    call.status = code;
    const text = JSON.stringify(payload);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'audit-id': randomUUID() });
    res.end(text);
  }

  private serve(req: IncomingMessage, url: URL, raw: string, contentType: string | undefined, route: Route | null, verb: Verb | 'other'): Json {
    if (req.headers.authorization !== `Bearer ${this.token}`) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
    const failure = this.failures.shift();
    if (failure) throw new StatusError(failure.code, failure.reason, `injected failure ${failure.code}`);
    if (!route) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (verb === 'other') {
      throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    const { resource, namespace, name } = route;
    const { group } = RESOURCES[resource];
    this.authorize(verb, resource, namespace, name);

    if (verb === 'list') {
      return this.listResponse(resource, namespace, url.searchParams);
    }
    const k = key(resource, namespace ?? '', name ?? '');
    const current = this.objects.get(k);
    if (!current || namespace === undefined || name === undefined) {
      throw new StatusError(404, 'NotFound', `${resource}.${group} "${name}" not found`, { name, group, kind: resource });
    }
    if (verb === 'get') return current;
    return this.patch(resource, current, raw, contentType);
  }

  private authorize(verb: Verb, resource: Resource, namespace: string | undefined, name: string | undefined): void {
    const rule = this.forbidden.get(namespace ?? '*');
    if (!rule) return;
    if (rule.verbs && !rule.verbs.includes(verb)) return;
    if (rule.resources && !rule.resources.includes(resource)) return;
    const { group } = RESOURCES[resource];
    const subject = name === undefined ? `${resource}.${group}` : `${resource}.${group} "${name}"`;
    const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
    throw new StatusError(
      403,
      'Forbidden',
      `${subject} is forbidden: User "${STAND_IN_USER}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`,
      { ...(name === undefined ? {} : { name }), group, kind: resource },
    );
  }

  private listResponse(resource: Resource, namespace: string | undefined, params: URLSearchParams): Json {
    const all = this.list(resource, namespace, params.get('labelSelector') ?? undefined);
    const limit = Number(params.get('limit') ?? 0);
    const offset = Number(params.get('continue') ? Buffer.from(params.get('continue') ?? '', 'base64url').toString() : 0);
    const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const more = limit > 0 && offset + limit < all.length;
    const { group, kind } = RESOURCES[resource];
    return {
      kind: `${kind}List`,
      apiVersion: `${group}/v1`,
      metadata: {
        resourceVersion: String(this.revision),
        ...(more ? { continue: Buffer.from(String(offset + limit)).toString('base64url'), remainingItemCount: all.length - offset - limit } : {}),
      },
      items: page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    };
  }

  private list(resource: Resource, namespace: string | undefined, labelSelector: string | undefined): KubeObject[] {
    const wanted = parseSelector(labelSelector);
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${resource}|${namespace === undefined ? '' : `${namespace}|`}`))
      .map(([, o]) => o)
      .filter((o) => Object.entries(wanted).every(([lk, lv]) => o.metadata.labels?.[lk] === lv))
      .sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name))
      .map(clone);
  }

  private patch(resource: Resource, current: KubeObject, raw: string, contentType: string | undefined): Json {
    let body: Json;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new StatusError(400, 'BadRequest', 'the patch body is not valid JSON');
    }
    let patched: Json;
    switch (contentType) {
      case 'application/merge-patch+json':
        patched = mergePatch(clone(current), body, false);
        break;
      case 'application/strategic-merge-patch+json':
        patched = mergePatch(clone(current), body, true);
        break;
      case 'application/json-patch+json':
        if (!Array.isArray(body)) throw new StatusError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
        patched = jsonPatch(clone(current), body);
        break;
      default:
        throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
    }
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) {
      throw new StatusError(422, 'Invalid', 'the patch result is not an object');
    }
    const { group, kind } = RESOURCES[resource];
    const sentVersion = patched.metadata?.resourceVersion;
    if (sentVersion !== undefined && sentVersion !== current.metadata.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${resource}.${group} "${current.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: current.metadata.name, group, kind: resource },
      );
    }
    // Identity, bookkeeping and status are not the patcher's to change on the main resource.
    patched.apiVersion = current.apiVersion;
    patched.kind = current.kind ?? kind;
    patched.metadata = {
      ...(typeof patched.metadata === 'object' && patched.metadata !== null ? patched.metadata : {}),
      name: current.metadata.name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      resourceVersion: current.metadata.resourceVersion,
      ...(current.metadata.generation === undefined ? {} : { generation: current.metadata.generation }),
    };
    patched.status = clone(current.status);
    this.validate(resource, patched);
    if (canonical(patched) === canonical(current)) return current;
    if (canonical(patched.spec) !== canonical(current.spec)) patched.metadata.generation = (current.metadata.generation ?? 1) + 1;
    patched.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key(resource, current.metadata.namespace, current.metadata.name), patched);
    return patched;
  }

  private validate(resource: Resource, obj: Json): void {
    const { group, kind } = RESOURCES[resource];
    const invalid = (field: string, problem: string): never => {
      throw new StatusError(422, 'Invalid', `${kind}.${group} "${obj.metadata.name}" is invalid: ${field}: ${problem}`, {
        name: obj.metadata.name,
        group,
        kind: resource,
      });
    };
    if (resource === 'cronjobs') {
      if (typeof obj.spec?.schedule !== 'string' || obj.spec.schedule === '') invalid('spec.schedule', 'Required value');
      if (obj.spec?.suspend !== undefined && typeof obj.spec.suspend !== 'boolean') invalid('spec.suspend', 'Invalid value: must be a boolean');
    }
  }

  private store(resource: Resource, obj: KubeObject): KubeObject {
    obj.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key(resource, obj.metadata.namespace, obj.metadata.name), obj);
    return clone(obj);
  }

  private meta(namespace: string, name: string, existing: KubeObject | undefined, labels?: Record<string, string>): KubeObject['metadata'] {
    return {
      name,
      namespace,
      uid: existing?.metadata.uid ?? randomUUID(),
      resourceVersion: '',
      generation: (existing?.metadata.generation ?? 0) + 1,
      creationTimestamp: existing?.metadata.creationTimestamp ?? stamp(new Date()),
      ...(labels && Object.keys(labels).length ? { labels: { ...labels } } : {}),
    };
  }

  private putReplicaSet(owner: KubeObject, containers: ContainerInput[], revision: number, replicas: number): void {
    const hash = createHash('sha256').update(JSON.stringify(containers)).digest('hex').slice(0, 10);
    const labels = { ...(owner.spec.selector.matchLabels as Record<string, string>), 'pod-template-hash': hash };
    const name = `${owner.metadata.name}-${hash}`;
    const metadata = this.meta(owner.metadata.namespace, name, undefined, labels);
    metadata.annotations = { 'deployment.kubernetes.io/revision': String(revision) };
    metadata.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true },
    ];
    this.store('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata,
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: containers.map(container) } },
      },
      status: { replicas, fullyLabeledReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 },
    });
  }
}

export async function startKubernetesStandIn(opts: KubernetesStandInOptions = {}): Promise<KubernetesStandIn> {
  let standIn: KubernetesStandIn | undefined;
  const server = createServer((req, res) => {
    standIn?.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(err), reason: 'InternalError', code: 500 }));
      }
    });
  });
  standIn = new KubernetesStandIn(server, await listenOnLoopback(server), opts);
  return standIn;
}

// ------------------------------------------------------------------ helpers

interface Route {
  resource: Resource;
  namespace: string | undefined;
  name: string | undefined;
}

function parseRoute(path: string): Route | null {
  const m = /^\/apis\/(batch|apps)\/v1(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?\/?$/.exec(path);
  if (!m) return null;
  const resource = m[3] as Resource;
  if (!(resource in RESOURCES) || RESOURCES[resource].group !== m[1]) return null;
  const namespace = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  const name = m[4] === undefined ? undefined : decodeURIComponent(m[4]);
  // A name without a namespace is not a route for namespaced resources.
  if (namespace === undefined && name !== undefined) return null;
  return { resource, namespace, name };
}

function key(resource: Resource, namespace: string, name: string): string {
  return `${resource}|${namespace}|${name}`;
}

function container(c: ContainerInput): Json {
  return { name: c.name, image: c.image, imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
}

function parseSelector(selector: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (selector ?? '').split(',')) {
    const m = /^\s*([^=!\s]+)\s*==?\s*([^\s]*)\s*$/.exec(part);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** RFC 7386; with `byName`, lists of objects carrying `name` merge element-wise like strategic merge does for containers. */
function mergePatch(target: Json, patch: Json, byName: boolean): Json {
  if (byName && Array.isArray(patch) && Array.isArray(target) && patch.every(isNamed) && target.every(isNamed)) {
    const out = target.map(clone);
    for (const item of patch) {
      const i = out.findIndex((t: Json) => t.name === item.name);
      if (i === -1) out.push(clone(item));
      else out[i] = mergePatch(out[i], item, true);
    }
    return out;
  }
  if (!isObject(patch)) return clone(patch);
  const out: Json = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v, byName);
  }
  return out;
}

function jsonPatch(doc: Json, ops: Json[]): Json {
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new StatusError(400, 'BadRequest', 'invalid JSON Patch operation');
    }
    const tokens = op.path === '' ? [] : op.path.split('/').slice(1).map((t: string) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (tokens.length === 0) {
      if (op.op === 'add' || op.op === 'replace') {
        doc = clone(op.value);
        continue;
      }
      throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request`);
    }
    const last = tokens[tokens.length - 1] as string;
    let parent: Json = doc;
    for (const t of tokens.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(t)] : isObject(parent) ? parent[t] : undefined;
      if (parent === undefined) throw new StatusError(422, 'Invalid', `jsonpatch ${op.op} operation does not apply: doc is missing path: "${op.path}"`);
    }
    const exists = Array.isArray(parent) ? Number(last) < parent.length : isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last);
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, clone(op.value));
        else parent[last] = clone(op.value);
        break;
      case 'replace':
        if (!exists) throw new StatusError(422, 'Invalid', `jsonpatch replace operation does not apply: doc is missing key: ${op.path}`);
        parent[Array.isArray(parent) ? Number(last) : last] = clone(op.value);
        break;
      case 'remove':
        if (!exists) throw new StatusError(422, 'Invalid', `jsonpatch remove operation does not apply: doc is missing path: "${op.path}"`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      case 'test':
        if (!exists || canonical(parent[Array.isArray(parent) ? Number(last) : last]) !== canonical(op.value)) {
          throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request`);
        }
        break;
      default:
        throw new StatusError(400, 'BadRequest', `unsupported JSON Patch operation "${op.op}" in the stand-in`);
    }
  }
  return doc;
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNamed(v: unknown): boolean {
  return isObject(v) && typeof v.name === 'string';
}

/** Key-order independent JSON, to tell a real change from a no-op patch. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function parseJson(raw: string): Json {
  try {
    return JSON.parse(raw);
  } catch {
    return raw === '' ? undefined : raw;
  }
}

/** RFC 3339 with whole seconds, as the API server writes timestamps. */
function stamp(d: Date | string): string {
  const date = typeof d === 'string' ? new Date(d) : d;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The request as RBAC names it: `<API group>/<resource>/<verb>` (the core group is empty). */
function rbacUse(method: string, url: URL, name: string | undefined): string {
  const parts = url.pathname.split('/').filter(Boolean);
  // /api/v1/namespaces/ns/pods[/name] or /apis/<group>/<version>/namespaces/ns/<resource>[/name]
  const group = parts[0] === 'apis' ? (parts[1] ?? '') : '';
  const rest = parts.slice(parts[0] === 'apis' ? 3 : 2);
  const resource = rest[0] === 'namespaces' ? (rest[2] ?? 'namespaces') : (rest[0] ?? '');
  const watching = ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
  const verb =
    method === 'GET'
      ? watching
        ? 'watch'
        : name === undefined
          ? 'list'
          : 'get'
      : ({ PATCH: 'patch', PUT: 'update', POST: 'create', DELETE: name === undefined ? 'deletecollection' : 'delete' } as Record<string, string>)[method] ?? method.toLowerCase();
  return `${group}/${resource}/${verb}`;
}
