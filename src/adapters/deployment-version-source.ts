import { AppsV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Deployment, V1PodSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { Forbidden, NotFound } from '../core/errors.js';
import type { VersionReading, VersionSource } from '../core/ports.js';
import { apiServerUrl, DEFAULT_KUBE_TIMEOUT_MS, requestOptions, translateKubeError } from './kubernetes-client.js';
import type { KubeCall } from './kubernetes-client.js';

export interface DeploymentVersionTarget {
  readonly namespace: string;
  readonly name: string;
  /** Which container's image carries the version; default: the first container. */
  readonly container?: string;
}

export interface DeploymentVersionSourceOptions {
  readonly timeoutMs?: number;
}

/**
 * The version a Deployment runs, from its container image tag.
 *
 * Mid-rollout the pod template already holds the NEW image, so the Deployment alone cannot say
 * what most pods still run. The old version is therefore taken from the Deployment's older
 * ReplicaSets (one extra list call, made only while a rollout is in progress): the highest
 * revision that still has pods and a different tag. When that cannot be seen (RBAC does not
 * allow listing ReplicaSets, or the controller has not created them yet) the reading falls back
 * to version = rollingTo = the template's tag: "moving to X" is still true, and claiming an old
 * version we cannot see would be worse than repeating the new one.
 */
export class DeploymentVersionSource implements VersionSource {
  readonly description: string;
  private readonly apps: AppsV1Api;
  private readonly server: string;
  private readonly timeoutMs: number;

  constructor(
    kc: KubeConfig,
    private readonly target: DeploymentVersionTarget,
    opts: DeploymentVersionSourceOptions = {},
  ) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.server = apiServerUrl(kc);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS;
    this.description = `Deployment ${target.namespace}/${target.name}${target.container ? ` container ${target.container}` : ''}`;
  }

  async read(): Promise<VersionReading> {
    const { namespace, name } = this.target;
    let dep: V1Deployment;
    try {
      dep = await this.apps.readNamespacedDeployment({ namespace, name }, requestOptions(this.timeoutMs));
    } catch (err) {
      throw translateKubeError(err, this.call('get', 'deployments', name));
    }
    const newTag = imageTag(this.image(dep.spec?.template?.spec, 'Deployment'));
    if (!isRollingOut(dep)) return { version: newTag };

    const oldTag = await this.previousTag(dep, newTag);
    if (oldTag === 'same') return { version: newTag };
    return { version: oldTag ?? newTag, rollingTo: newTag };
  }

  /** 'same' when the rollout does not change this container's tag (an env or resources change). */
  private async previousTag(dep: V1Deployment, newTag: string): Promise<string | 'same' | null> {
    const { namespace, name } = this.target;
    const matchLabels = dep.spec?.selector?.matchLabels ?? {};
    const labelSelector = Object.entries(matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let sets: V1ReplicaSet[];
    try {
      const list = await this.apps.listNamespacedReplicaSet(
        { namespace, ...(labelSelector ? { labelSelector } : {}) },
        requestOptions(this.timeoutMs),
      );
      sets = list.items;
    } catch (err) {
      const e = translateKubeError(err, this.call('list', 'replicasets'));
      // Reading ReplicaSets is a nicety: without the RBAC for it, report what the Deployment says.
      if (e instanceof Forbidden) return null;
      throw e;
    }
    const live = sets
      .filter((rs) => (rs.metadata?.ownerReferences ?? []).some((o) => o.kind === 'Deployment' && o.name === name && (!dep.metadata?.uid || o.uid === dep.metadata.uid)))
      .filter((rs) => (rs.status?.replicas ?? rs.spec?.replicas ?? 0) > 0)
      .map((rs) => ({ revision: Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0), tag: this.tagOf(rs) }))
      .filter((rs): rs is { revision: number; tag: string } => rs.tag !== null);
    if (live.length === 0) return null;
    const older = live.filter((rs) => rs.tag !== newTag).sort((a, b) => b.revision - a.revision);
    return older[0]?.tag ?? 'same';
  }

  private tagOf(rs: V1ReplicaSet): string | null {
    try {
      return imageTag(this.image(rs.spec?.template?.spec, 'ReplicaSet'));
    } catch {
      return null;
    }
  }

  private image(spec: V1PodSpec | undefined, owner: string): string {
    const containers = spec?.containers ?? [];
    const wanted = this.target.container;
    const c = wanted === undefined ? containers[0] : containers.find((x) => x.name === wanted);
    if (!c) {
      throw new NotFound(
        `${owner} \`${this.target.namespace}/${this.target.name}\` has no container${wanted === undefined ? 's' : ` called \`${wanted}\``}.`,
        containers.length ? `Containers: ${containers.map((x) => x.name).join(', ')}.` : undefined,
      );
    }
    if (!c.image) throw new NotFound(`Container \`${c.name}\` of ${this.description} has no image.`);
    return c.image;
  }

  private call(verb: KubeCall['verb'], resource: 'deployments' | 'replicasets', name?: string): KubeCall {
    return {
      kind: resource === 'deployments' ? 'Deployment' : 'ReplicaSet',
      resource,
      group: 'apps',
      verb,
      namespace: this.target.namespace,
      ...(name === undefined ? {} : { name }),
      server: this.server,
      timeoutMs: this.timeoutMs,
    };
  }
}

/** Same test `kubectl rollout status` uses, so the bot and the humans agree on "rolling". */
function isRollingOut(dep: V1Deployment): boolean {
  const generation = dep.metadata?.generation;
  const observed = dep.status?.observedGeneration;
  if (generation !== undefined && (observed === undefined || observed < generation)) return true;
  const desired = dep.spec?.replicas ?? 1;
  const updated = dep.status?.updatedReplicas ?? 0;
  if (updated < desired) return true;
  // Old pods still being scaled down still serve traffic with the old version.
  return (dep.status?.replicas ?? 0) > updated;
}

/**
 * `registry:5000/team/app:abc123` → `abc123`; `app@sha256:<hex>` → `sha256:<first 12 hex>`;
 * `app:v1@sha256:…` → `v1` (the tag is what people recognise); `app` → `latest`.
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const named = at === -1 ? image : image.slice(0, at);
  const digest = at === -1 ? null : image.slice(at + 1);
  // The tag colon is the one after the last slash; earlier colons belong to a registry port.
  const lastSegment = named.slice(named.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon !== -1 && colon < lastSegment.length - 1) return lastSegment.slice(colon + 1);
  if (digest) {
    const [alg, hex] = digest.split(':');
    return hex ? `${alg}:${hex.slice(0, 12)}` : digest;
  }
  return 'latest';
}
