/** Builds a service's two version sources from config; either kind works on either platform. */
import type { KubeConfig } from '@kubernetes/client-node';
import type { VersionSourceConfig } from '../config/schema.js';
import type { VersionSource } from '../core/ports.js';
import { DeploymentVersionSource } from './deployment-version-source.js';
import { HttpVersionSource } from './http-version-source.js';

export function versionSource(c: VersionSourceConfig, kube: () => KubeConfig, opts: { httpTimeoutMs?: number } = {}): VersionSource {
  if ('deployment' in c) {
    const { namespace, name, container } = c.deployment;
    return new DeploymentVersionSource(kube(), { namespace, name, ...(container ? { container } : {}) });
  }
  return new HttpVersionSource({ url: c.url, ...(c.field ? { field: c.field } : {}), ...(opts.httpTimeoutMs ? { timeoutMs: opts.httpTimeoutMs } : {}) });
}
