import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { shareSeries, summaryLine } from '../../src/core/share-history.js';
import { renderReportComment } from '../../src/slack/render-report.js';
import { weightRequestAt } from './request-fixture.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 9, 0);

function applied(service: string, from: number, to: number, at: number, over: Partial<ChangeRequest> = {}): ChangeRequest {
  const r = weightRequestAt(at - 60_000, 'applied', { from: { kubernetes: from, ec2: 100 - from }, to: { kubernetes: to, ec2: 100 - to }, finishedAt: at, ...over });
  return { ...r, change: { ...r.change, service } as ChangeRequest['change'] };
}

describe('share history: each service’s Kubernetes share over time', () => {
  it('starts from the share before the first change, steps at each applied change, ends now', () => {
    const history = [applied('api', 30, 60, NOW - 3 * DAY), applied('api', 10, 30, NOW - 10 * DAY)]; // newest first, as stored
    const [api] = shareSeries(history, ['api'], NOW);
    expect(api!.points).toEqual([
      { at: NOW - 10 * DAY, percent: 10 },
      { at: NOW - 10 * DAY, percent: 30 },
      { at: NOW - 3 * DAY, percent: 60 },
      { at: NOW, percent: 60 },
    ]);
    expect(api!.changes).toBe(2);
  });

  it('counts only changes that took effect, of the service asked for', () => {
    const history = [
      { ...applied('api', 30, 90, NOW - DAY), status: 'rejected' as const },
      { ...applied('api', 30, 90, NOW - DAY), status: 'failed' as const },
      applied('web', 0, 50, NOW - 2 * DAY),
      applied('api', 10, 30, NOW - 5 * DAY),
    ];
    const [api, web] = shareSeries(history, ['api', 'web'], NOW);
    expect(api!.points.map((p) => p.percent)).toEqual([10, 30, 30]);
    expect(web!.points.map((p) => p.percent)).toEqual([0, 50, 50]);
  });

  it('ends on the live share when it is known; a service never changed is a single point at its live share, or nothing', () => {
    const history = [applied('api', 10, 30, NOW - 5 * DAY)];
    const [api, web, www] = shareSeries(history, ['api', 'web', 'www'], NOW, new Map([['api', 50], ['web', 0]]));
    expect(api!.points.at(-1)).toEqual({ at: NOW, percent: 50 });
    expect(web!.points).toEqual([{ at: NOW, percent: 0 }]);
    expect(www!.points).toEqual([]);
  });

  it('cron moves are not traffic; a change kind it does not know counts when it names its service and target weights', () => {
    const cron = { ...applied('api', 10, 30, NOW - DAY), change: { kind: 'cron', job: 'nightly', from: 'ec2', to: 'kubernetes' } } as ChangeRequest;
    const ramp = { ...applied('api', 10, 30, NOW - DAY), change: { kind: 'ramp', service: 'api', from: { kubernetes: 30, ec2: 70 }, to: { kubernetes: 100, ec2: 0 } } } as unknown as ChangeRequest;
    const [api] = shareSeries([ramp, cron], ['api'], NOW);
    expect(api!.points.map((p) => p.percent)).toEqual([30, 100, 100]);
  });

  it('one line per service says where it went, in how many changes, over how long', () => {
    const [api, web, www] = shareSeries([applied('api', 60, 100, NOW - 2 * DAY), applied('api', 10, 60, NOW - 14 * DAY)], ['api', 'web', 'www'], NOW, new Map([['web', 20]]));
    expect(summaryLine(api!, NOW)).toBe('api: 10% → 100% on Kubernetes (fully on Kubernetes) in 2 changes over 14 days, last 2 days ago');
    expect(summaryLine(web!, NOW)).toBe('web: 20% on Kubernetes, unchanged in the recorded history');
    expect(summaryLine(www!, NOW)).toBe('www: no change recorded and its live share is unknown');
    const comment = renderReportComment([api!, web!, www!], NOW, true);
    expect(comment.split('\n')).toEqual([
      '*Migration progress, 2026-12-07* (scheduled): 1 of 3 services fully on Kubernetes.',
      `• ${summaryLine(api!, NOW)}`,
      `• ${summaryLine(web!, NOW)}`,
      `• ${summaryLine(www!, NOW)}`,
    ]);
  });

  it('many services: the comment stays short and says how many it left out', () => {
    const names = Array.from({ length: 300 }, (_, i) => `service-number-${i}`);
    const comment = renderReportComment(shareSeries([], names, NOW, new Map(names.map((n) => [n, 40]))), NOW, false);
    expect(comment.length).toBeLessThanOrEqual(3600);
    expect(comment).toMatch(/…and \d+ more\.$/);
  });
});
