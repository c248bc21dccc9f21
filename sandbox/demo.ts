/**
 * The demo world the sandbox starts with: who is in the workspace, which channels exist, and what
 * Route 53, Kubernetes and the version endpoints hold before anyone types a command.
 */
import type { KubernetesStandIn } from '../test/support/kubernetes-stand-in.js';
import type { Route53StandIn } from '../test/support/route53-stand-in.js';
import type { VersionEndpoints } from '../test/support/version-endpoints.js';

export interface Person {
  readonly id: string;
  readonly name: string;
  readonly role: 'requester' | 'approver';
}

export const PEOPLE: readonly Person[] = [
  { id: 'U0ALICE', name: 'Alice', role: 'requester' },
  { id: 'U0BOB', name: 'Bob', role: 'approver' },
  { id: 'U0CAROL', name: 'Carol', role: 'approver' },
];

export const APPROVAL_CHANNEL = { id: 'C0APPROVALS', name: 'strangler-approvals', purpose: 'Traffic shifts and cron moves wait here for an approver' };
export const ALERT_CHANNEL = { id: 'C0ALERTS', name: 'strangler-alerts', purpose: 'Version drift between Kubernetes and EC2, and weights changed outside the bot' };
export const CHANNELS = [APPROVAL_CHANNEL, ALERT_CHANNEL] as const;

export const ZONE_ID = 'Z0SANDBOX0ZONE';
const ZONE_APEX = 'example.com';
// Route 53's own hosted zone id for us-east-1 load balancers: what a real alias target carries.
const ELB_ZONE_ID = 'Z35SXDOTRQ7X7K';
export const SET_IDS = { kubernetes: 'kubernetes', ec2: 'ec2' } as const;

export interface DemoService {
  readonly name: string;
  readonly record: string;
  readonly kubernetesWeight: number;
  readonly ec2Weight: number;
  readonly versions: { kubernetes: string; ec2: string };
}

export const SERVICES: readonly DemoService[] = [
  { name: 'api', record: 'api.example.com', kubernetesWeight: 10, ec2Weight: 90, versions: { kubernetes: '4f1c2ab', ec2: '4f1c2ab' } },
  // Different commits on the two platforms: the drift checker alerts once the grace period is over.
  { name: 'web', record: 'web.example.com', kubernetesWeight: 50, ec2Weight: 50, versions: { kubernetes: '9e07d3f', ec2: '81b6c40' } },
  { name: 'search', record: 'search.example.com', kubernetesWeight: 0, ec2Weight: 100, versions: { kubernetes: 'c2d9e11', ec2: 'c2d9e11' } },
];

export interface DemoCronJob {
  readonly name: string;
  readonly namespace: string;
  readonly schedule: string;
  /** Suspended means cron.d on EC2 runs it; active means the CronJob does. */
  readonly suspend: boolean;
  readonly lockKey: string;
}

export const CRON_JOBS: readonly DemoCronJob[] = [
  { name: 'nightly-report', namespace: 'jobs', schedule: '0 2 * * *', suspend: false, lockKey: 'cron-lock:nightly-report' },
  { name: 'invoice-sweep', namespace: 'jobs', schedule: '*/30 * * * *', suspend: true, lockKey: 'cron-lock:invoice-sweep' },
];

export const DRIFT = { intervalSeconds: 5, graceSeconds: 30, remindEveryMinutes: 240 };

/**
 * The Kubernetes side of `api` as an exporter Prometheus scrapes: healthy it answers 0.2% errors,
 * "failing" 25%. The ramp's gate allows 5%, so making it fail mid-ramp rolls the ramp back.
 */
export const RAMP_SERVICE = 'api';
export const KUBERNETES_ERRORS = { healthy: 0.002, failing: 0.25, requestsPerSecond: 50 } as const;
export const RAMP = {
  steps: [25, 50, 75, 100],
  bake: '30s',
  onFailure: 'rollback',
  gateName: 'k8s 5xx ratio',
  // A 15 s window: a rise in errors shows within a few scrapes, as the demo wants.
  query: `sum(rate(http_requests_total{service="${RAMP_SERVICE}",platform="kubernetes",code=~"5.."}[15s])) / sum(rate(http_requests_total{service="${RAMP_SERVICE}",platform="kubernetes"}[15s]))`,
  max: 0.05,
} as const;

export function seedRoute53(r53: Route53StandIn): void {
  r53.addZone(ZONE_ID, `${ZONE_APEX}.`);
  for (const s of SERVICES) {
    for (const [platform, weight] of [['kubernetes', s.kubernetesWeight], ['ec2', s.ec2Weight]] as const) {
      r53.putRecord(ZONE_ID, {
        Name: `${s.record}.`,
        Type: 'A',
        SetIdentifier: SET_IDS[platform],
        Weight: weight,
        AliasTarget: { HostedZoneId: ELB_ZONE_ID, DNSName: `${platform}-${s.name}-lb.us-east-1.elb.amazonaws.com.`, EvaluateTargetHealth: true },
      });
    }
  }
}

export function seedKubernetes(kube: KubernetesStandIn): void {
  const yesterday = new Date(Date.now() - 86_400_000);
  for (const j of CRON_JOBS) {
    kube.putCronJob({
      namespace: j.namespace,
      name: j.name,
      schedule: j.schedule,
      suspend: j.suspend,
      image: `registry.example.com/${j.name}:2024.11.1`,
      ...(j.suspend ? {} : { lastScheduleTime: yesterday }),
    });
  }
}

/** Serves `/<platform>/<service>` → `{"commit": …}` and returns the URLs for the config. */
export function seedVersions(endpoints: VersionEndpoints): Record<string, { kubernetes: string; ec2: string }> {
  return Object.fromEntries(
    SERVICES.map((s) => [
      s.name,
      { kubernetes: endpoints.set(`/kubernetes/${s.name}`, s.versions.kubernetes), ec2: endpoints.set(`/ec2/${s.name}`, s.versions.ec2) },
    ]),
  );
}

/** The strangler.yml the bot is started with, as a plain object (written out as YAML). */
export function demoConfig(opts: { versionUrls: Record<string, { kubernetes: string; ec2: string }>; memcacheServers: string; prometheusUrl: string }): Record<string, unknown> {
  return {
    slack: {
      approvalChannel: APPROVAL_CHANNEL.id,
      alertChannel: ALERT_CHANNEL.id,
      approvers: PEOPLE.filter((p) => p.role === 'approver').map((p) => p.id),
      requesters: [],
      approvalTimeoutMinutes: 30,
    },
    services: Object.fromEntries(
      SERVICES.map((s) => {
        const urls = opts.versionUrls[s.name]!;
        return [
          s.name,
          {
            route53: {
              hostedZoneId: ZONE_ID,
              recordName: s.record,
              recordType: 'A',
              kubernetesSetIdentifier: SET_IDS.kubernetes,
              ec2SetIdentifier: SET_IDS.ec2,
            },
            maxStep: 25,
            version: { kubernetes: { url: urls.kubernetes, field: 'commit' }, ec2: { url: urls.ec2, field: 'commit' } },
            ...(s.name === RAMP_SERVICE
              ? {
                  ramp: {
                    steps: [...RAMP.steps],
                    bake: RAMP.bake,
                    onFailure: RAMP.onFailure,
                    gates: [{ name: RAMP.gateName, prometheus: { url: opts.prometheusUrl, query: RAMP.query }, max: RAMP.max }],
                  },
                }
              : {}),
          },
        ];
      }),
    ),
    memcache: { servers: [opts.memcacheServers] },
    cronjobs: Object.fromEntries(CRON_JOBS.map((j) => [j.name, { kubernetes: { namespace: j.namespace, name: j.name }, lockKey: j.lockKey }])),
    drift: DRIFT,
  };
}
