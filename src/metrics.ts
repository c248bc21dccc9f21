/**
 * Prometheus metrics (prom-client), served at GET /metrics. One registry per bot, so tests
 * running several bots in one process do not share series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChangeRequest } from './core/change-request.js';
import type { DriftState } from './core/drift.js';
import { classify } from './core/drift.js';
import type { PairSnapshot } from './core/ports.js';
import { splitFromWeights } from './core/split.js';
import { weightsOf } from './core/pair-snapshot.js';

export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'strangler_requests_total',
    help: 'Change requests reaching a status, by kind (weight, cron, rollback) and status',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });

  readonly approvalWait = new Histogram({
    name: 'strangler_approval_wait_seconds',
    help: 'Time from a request to its approval or rejection',
    buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  readonly applyDuration = new Histogram({
    name: 'strangler_apply_duration_seconds',
    help: 'Time from the worker starting a change to it being verified',
    buckets: [1, 5, 10, 20, 30, 60, 90, 120, 180, 300],
    registers: [this.registry],
  });

  readonly apiCalls = new Counter({
    name: 'strangler_api_calls_total',
    help: 'Calls to Route 53 and Kubernetes by operation and outcome (ok, throttled, error); Route 53 counts every SDK attempt',
    labelNames: ['api', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly queueDepth: Gauge;

  readonly commandsTurnedAway = new Counter({
    name: 'strangler_commands_busy_total',
    help: 'Commands answered "busy, try again" in the ack because too many answers were still waiting to be worked out',
    registers: [this.registry],
  });

  readonly drift = new Gauge({
    name: 'strangler_drift_state',
    help: 'Version state per service: 0 in sync, 1 drifting, 2 unknown (unreadable source)',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  readonly kubernetesShare = new Gauge({
    name: 'strangler_kubernetes_share_percent',
    help: 'Share of traffic Route 53 sends to Kubernetes, per service, as last read',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  /** The tandem-deploy gate's API (src/web/versions-api.ts), one count per answer. */
  readonly versionsApiRequests = new Counter({
    name: 'strangler_versions_api_requests_total',
    help: 'Answers of GET /api/v1/services/{service}/versions by outcome (ok, unauthorized, rate_limited, not_found, off, unavailable)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(opts: { queueDepth?: () => Promise<number> } = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: 'strangler_' });
    const read = opts.queueDepth;
    this.queueDepth = new Gauge({
      name: 'strangler_queue_depth',
      help: 'Jobs waiting, delayed or active in the change queue',
      registers: [this.registry],
      // Read at scrape time: the queue is the source of truth, not a counter we might miss.
      async collect() {
        if (read) this.set(await read().catch(() => Number.NaN));
      },
    });
  }

  requestChanged(r: ChangeRequest): void {
    const kind = r.rollbackOf !== undefined ? 'rollback' : r.change.kind;
    this.requests.inc({ kind, status: r.status });
    if ((r.status === 'approved' || r.status === 'rejected') && r.decidedAt) this.approvalWait.observe((r.decidedAt - r.requestedAt) / 1000);
    if (r.status === 'applied' && r.applyStartedAt && r.finishedAt) this.applyDuration.observe((r.finishedAt - r.applyStartedAt) / 1000);
  }

  pairRead(service: string, p: PairSnapshot): void {
    this.kubernetesShare.set({ service }, splitFromWeights(weightsOf(p)).kubernetesPercent);
  }

  driftChecked(states: readonly DriftState[]): void {
    for (const s of states) {
      const k = classify(s.kubernetes, s.ec2);
      this.drift.set({ service: s.service }, k === 'in-sync' ? 0 : k === 'drift' ? 1 : 2);
    }
  }
}
