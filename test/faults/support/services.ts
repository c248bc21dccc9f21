/**
 * Services beyond the harness's api and web, for fault tests and benchmarks alike (no vitest
 * here, so the benchmark can import it): config, seeded records in one or more hosted zones,
 * and reading them back.
 */
import { aliasRecord, baseConfig, type BotHarness, ZONE } from '../../support/bot-harness.js';

export interface ExtraService {
  readonly name: string;
  readonly zone?: string;
  readonly kubernetes?: number;
  readonly maxStep?: number;
}

/** baseConfig() plus weighted A-record services; `api` and `web` stay as the harness seeds them. */
export function configWith(extra: readonly ExtraService[]): Record<string, unknown> {
  const base = baseConfig() as { services: Record<string, unknown> };
  const services: Record<string, unknown> = { ...base.services };
  for (const s of extra) {
    services[s.name] = {
      route53: {
        hostedZoneId: s.zone ?? ZONE,
        recordName: `${s.name}.example.com`,
        recordType: 'A',
        kubernetesSetIdentifier: 'primary',
        ec2SetIdentifier: 'secondary',
      },
      maxStep: s.maxStep ?? 25,
    };
  }
  return { ...base, services };
}

/** Seeds the two weighted records of every extra service, creating extra hosted zones as needed. */
export function seedServices(h: BotHarness, extra: readonly ExtraService[]): void {
  const zones = seededZones.get(h) ?? new Set([ZONE]);
  seededZones.set(h, zones);
  for (const s of extra) {
    const zone = s.zone ?? ZONE;
    if (!zones.has(zone)) {
      h.r53.addZone(zone, 'example.com.');
      zones.add(zone);
    }
    const k = s.kubernetes ?? 10;
    h.r53.putRecord(zone, aliasRecord(`${s.name}.example.com`, 'primary', k, `k8s-${s.name}.elb.amazonaws.com`));
    h.r53.putRecord(zone, aliasRecord(`${s.name}.example.com`, 'secondary', 100 - k, `ec2-${s.name}.elb.amazonaws.com`));
  }
}

const seededZones = new WeakMap<BotHarness, Set<string>>();

/** Live weights of a seeded extra service (the harness's own `weights()` knows only api/web). */
export function weightsOf(h: BotHarness, s: ExtraService | string): { kubernetes: number | undefined; ec2: number | undefined } {
  const svc = typeof s === 'string' ? { name: s } : s;
  if (svc.name === 'api' || svc.name === 'web') return h.weights(svc.name);
  const zone = svc.zone ?? ZONE;
  return {
    kubernetes: h.r53.getRecord(zone, `${svc.name}.example.com`, 'A', 'primary')?.Weight,
    ec2: h.r53.getRecord(zone, `${svc.name}.example.com`, 'A', 'secondary')?.Weight,
  };
}

/** Change batches that touched a service's records. */
export function batchesFor(h: BotHarness, service: string): number {
  return h.r53.appliedBatches.filter((b) => b.changes.some((c) => c.record.Name === `${service}.example.com.`)).length;
}

/** `/strangle <text>` that must open a request; returns its id. */
export async function openRequest(h: BotHarness, user: string, text: string): Promise<number> {
  const reply = await h.ask(user, text);
  const m = /Request #(\d+) is waiting/.exec(reply);
  if (!m) throw new Error(`"${text}" opened no request: ${reply}`);
  return Number(m[1]);
}
