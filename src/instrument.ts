/**
 * Counting calls to the outside world without touching the adapters: Route 53 through an SDK
 * middleware (so each retried attempt and each throttle is seen), Kubernetes through a wrapper
 * around the port, and the Kubernetes share through every pair the bot reads.
 */
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { Config } from './config/schema.js';
import { Throttled } from './core/errors.js';
import type { PairSnapshot, WeightedPair, WeightedPairTarget } from './core/ports.js';
import type { Metrics } from './metrics.js';

const THROTTLES = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete', 'TooManyRequestsException']);

export function countRoute53Calls(client: Route53Client, metrics: Metrics): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context as { commandName?: string }).commandName?.replace(/Command$/, '') ?? 'unknown';
      try {
        const out = await next(args);
        metrics.apiCalls.inc({ api: 'route53', operation, outcome: 'ok' });
        return out;
      } catch (err) {
        const name = (err as Error)?.name ?? '';
        metrics.apiCalls.inc({ api: 'route53', operation, outcome: THROTTLES.has(name) ? 'throttled' : 'error' });
        throw err;
      }
    },
    // Below the retry middleware: one count per attempt.
    { step: 'deserialize', name: 'stranglerCallCounter', priority: 'low' },
  );
}

/** Wraps every method of a port to count its calls (Kubernetes adapters). */
export function countPortCalls<T extends object>(port: T, api: string, metrics: Metrics): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          const out = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          metrics.apiCalls.inc({ api, operation: String(prop), outcome: 'ok' });
          return out;
        } catch (err) {
          metrics.apiCalls.inc({ api, operation: String(prop), outcome: err instanceof Throttled ? 'throttled' : 'error' });
          throw err;
        }
      };
    },
  });
}

/** Keeps strangler_kubernetes_share_percent current from every read the bot makes anyway. */
export function watchShares(pairs: WeightedPair, config: Config, metrics: Metrics): WeightedPair {
  const serviceOf = (t: WeightedPairTarget) =>
    Object.entries(config.services).find(([, s]) => s.route53.hostedZoneId === t.hostedZoneId && s.route53.recordName === t.recordName)?.[0];
  const record = (t: WeightedPairTarget, p: PairSnapshot) => {
    const service = serviceOf(t);
    if (service) metrics.pairRead(service, p);
  };
  return {
    async read(t) {
      const p = await pairs.read(t);
      record(t, p);
      return p;
    },
    async readMany(ts) {
      const ps = await pairs.readMany(ts);
      ps.forEach((p, i) => {
        if (!(p instanceof Error)) record(ts[i]!, p);
      });
      return ps;
    },
    swap: (t, e, w) => pairs.swap(t, e, w),
    waitInSync: (id, o) => pairs.waitInSync(id, o),
  };
}
