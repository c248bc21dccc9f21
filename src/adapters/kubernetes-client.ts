/**
 * The one place that knows how @kubernetes/client-node is configured and how it fails.
 * Adapters build their API clients from `loadKubeConfig()` and pass every rejection through
 * `translateKubeError` so the rest of the bot only ever sees the typed errors of core/errors.
 */
import { ApiException, KubeConfig, Observable, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ConfigurationOptions, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import {
  ConfigInvalid,
  Forbidden,
  NotFound,
  StaleChange,
  StranglerError,
  Throttled,
  Unreachable,
} from '../core/errors.js';
import { connectionProblem } from './connection-problem.js';

/** Without a per-request deadline the client waits on a hung API server for as long as TCP does. */
export const DEFAULT_KUBE_TIMEOUT_MS = 10_000;

/**
 * kc.loadFromDefault(): $KUBECONFIG, then ~/.kube/config, then the in-cluster service account.
 * When none of those exist the client does not fail: it silently invents a context pointing at
 * http://localhost:8080 which then rejects every request with a confusing TLS message, so that
 * case is turned into a ConfigInvalid here, at start-up.
 */
export function loadKubeConfig(opts: { context?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new ConfigInvalid('The kubeconfig', [describe(err)]);
  }
  if (kc.getCurrentContext() === 'loaded-context' && kc.getCurrentCluster()?.server === 'http://localhost:8080') {
    throw new ConfigInvalid('The Kubernetes connection', [
      'no kubeconfig found: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account',
    ]);
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context)) {
      throw new ConfigInvalid('The kubeconfig', [
        `has no context \`${opts.context}\` (known: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`,
      ]);
    }
    kc.setCurrentContext(opts.context);
  }
  return kc;
}

/** The API server URL, for messages. */
export function apiServerUrl(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? 'unknown';
}

/**
 * Per-call options: a deadline on the request (the client's default has none) and, for patches,
 * the Content-Type. Without that header the client sends JSON Patch whatever the body looks like.
 */
export function requestOptions(
  timeoutMs: number,
  patch?: (typeof PatchStrategy)[keyof typeof PatchStrategy],
): ConfigurationOptions<ObservableMiddleware> {
  const deadline: ObservableMiddleware = {
    pre(ctx: RequestContext) {
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post(rsp: ResponseContext) {
      return new Observable(Promise.resolve(rsp));
    },
  };
  const base: ConfigurationOptions<ObservableMiddleware> = { middleware: [deadline], middlewareMergeStrategy: 'append' };
  return patch === undefined ? base : setHeaderOptions('Content-Type', patch, base);
}

/** What was being attempted, so errors can name the object and the RBAC rule involved. */
export interface KubeCall {
  /** Human kind, e.g. "CronJob". */
  readonly kind: string;
  /** RBAC resource and API group, e.g. "cronjobs" in "batch". */
  readonly resource: string;
  readonly group: string;
  readonly verb: 'get' | 'list' | 'patch';
  readonly namespace: string;
  /** Absent for list calls. */
  readonly name?: string;
  /** The API server URL (see apiServerUrl), for Unreachable messages. */
  readonly server: string;
  /** The deadline that was set, to say "timed out after N s". */
  readonly timeoutMs?: number;
}

interface StatusBody {
  reason?: string;
  message?: string;
}

/**
 * Maps whatever the client threw to a typed error. Never lets the ApiException text through:
 * it embeds the raw body and every response header.
 */
export function translateKubeError(err: unknown, call: KubeCall): Error {
  if (err instanceof StranglerError) return err;
  const what = call.name === undefined ? `${call.kind}s in namespace \`${call.namespace}\`` : `${call.kind} \`${call.namespace}/${call.name}\``;

  if (err instanceof ApiException) {
    const code: number = err.code;
    const status = parseStatus(err.body);
    const detail = status.message ? `: ${status.message}` : '';
    switch (code) {
      case 404:
        return new NotFound(`${what} does not exist on the cluster at ${call.server}.`, notFoundHint(call));
      case 403:
        return new Forbidden(
          `The bot is not allowed to ${call.verb} ${what}${detail}.`,
          `Grant the bot's service account the \`${call.verb}\` verb on \`${call.resource}\` (API group \`${call.group}\`) in namespace \`${call.namespace}\`.`,
        );
      case 401:
        return new Forbidden(
          `The Kubernetes API server at ${call.server} rejected the bot's credentials.`,
          'Check the token or certificate in the kubeconfig (or the pod service account); it may have expired.',
        );
      case 409:
        return new StaleChange(`${what} was changed by someone else while the bot was updating it${detail}.`);
      case 429:
        return new Throttled(`The Kubernetes API server at ${call.server} asked the bot to slow down (429).`, err);
      default:
        if (code >= 500) {
          return new Unreachable(
            `The Kubernetes API server at ${call.server} failed to answer for ${what} (HTTP ${code}${status.reason ? ` ${status.reason}` : ''}).`,
            err,
          );
        }
        return new Error(`The Kubernetes API server refused to ${call.verb} ${what}: HTTP ${code}${status.reason ? ` ${status.reason}` : ''}${detail}.`, {
          cause: err,
        });
    }
  }

  const reason = connectionProblem(err, call.timeoutMs);
  if (reason !== null) {
    return new Unreachable(`The Kubernetes API server at ${call.server} is unreachable (${reason}).`, err);
  }
  const message = describe(err);
  if (/HTTP protocol is not allowed/i.test(message)) {
    return new ConfigInvalid('The kubeconfig', [
      `cluster ${call.server} uses plain http://; the client only allows that with insecure-skip-tls-verify: true`,
    ]);
  }
  return err instanceof Error ? err : new Error(message);
}

function notFoundHint(call: KubeCall): string {
  if (call.resource === 'cronjobs') {
    return 'CronJob specs are owned by the delivery pipeline and the bot never creates them: check the name and namespace in the config, or that the pipeline has deployed it.';
  }
  if (call.resource === 'deployments') {
    return 'Deployments are owned by the delivery pipeline: check the name and namespace in the config, or that it has been deployed.';
  }
  return 'Check the name and namespace in the config.';
}

/** ApiException.body is the raw response text for error codes (a JSON Status when the API server answered). */
function parseStatus(body: unknown): StatusBody {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return {};
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const v = value as Record<string, unknown>;
  const out: StatusBody = {};
  if (typeof v.reason === 'string') out.reason = v.reason;
  if (typeof v.message === 'string') out.message = v.message;
  return out;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
