/** Builds a service's two version sources from config; either kind works on either platform. */
import type { VersionSourceConfig } from '../config/schema.js';
import type { VersionSource } from '../core/ports.js';
import { HttpVersionSource } from './http-version-source.js';

export type DeploymentRef = Extract<VersionSourceConfig, { deployment: unknown }>['deployment'];

/**
 * `deployment` builds the Kubernetes-backed kind; it is passed in so that this module (and a bot
 * with HTTP sources only) never loads the Kubernetes client.
 */
export function versionSource(
  c: VersionSourceConfig,
  deployment: (ref: DeploymentRef) => VersionSource,
  opts: { httpTimeoutMs?: number } = {},
): VersionSource {
  if ('deployment' in c) return deployment(c.deployment);
  return new HttpVersionSource({ url: c.url, ...(c.field ? { field: c.field } : {}), ...(opts.httpTimeoutMs ? { timeoutMs: opts.httpTimeoutMs } : {}) });
}

export function usesDeploymentSources(sources: readonly VersionSourceConfig[]): boolean {
  return sources.some((c) => 'deployment' in c);
}
