import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../src/core/change-request.js';
import { InvalidRecords } from '../../src/core/errors.js';
import type { PairSnapshot } from '../../src/core/ports.js';
import type { SlackMessage } from '../../src/slack/blocks.js';
import { renderStatus, serviceLines, type ServiceStatus } from '../../src/slack/render-status.js';

function pair(kubernetes: number, ec2: number, ttl: number | null = 60): PairSnapshot {
  return {
    kubernetes: { setIdentifier: 'k8s', weight: kubernetes, record: { Weight: kubernetes } },
    ec2: { setIdentifier: 'ec2', weight: ec2, record: { Weight: ec2 } },
    ttl,
  };
}

const open: ChangeRequest = {
  id: 5,
  change: { kind: 'weight', service: 'api', from: { kubernetes: 20, ec2: 80 }, to: { kubernetes: 40, ec2: 60 }, snapshot: pair(20, 80) },
  reason: '',
  requestedBy: 'U0ALICE',
  requestedAt: 0,
  expiresAt: 1,
  origin: { channel: 'C0OPS' },
  status: 'requested',
};

const api = (over: Partial<ServiceStatus> = {}): ServiceStatus => ({ service: 'api', recordName: 'api.example.com', pair: pair(20, 80, null), ...over });

function sectionTexts(m: SlackMessage): string[] {
  return m.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : []));
}

describe('serviceLines', () => {
  it('shows the split, the raw weights and an alias TTL', () => {
    expect(serviceLines(api())).toBe('*api* (api.example.com)\nKubernetes 20% · EC2 80% · weights 20/80 · TTL alias (the load balancer’s TTL)');
  });

  it('shows the TTL of plain records in seconds', () => {
    expect(serviceLines(api({ pair: pair(0, 100, 60) }))).toContain('Kubernetes 0% · EC2 100% · weights 0/100 · TTL 60 s');
  });

  it('shows weights that do not sum to 100 as the share they give', () => {
    expect(serviceLines(api({ pair: pair(3, 1) }))).toContain('Kubernetes 75% · EC2 25% · weights 3/1');
  });

  it('warns that a 0/0 pair is served 50/50', () => {
    const lines = serviceLines(api({ pair: pair(0, 0) }));
    expect(lines).toContain('Kubernetes 50% · EC2 50% · weights 0/0');
    expect(lines).toContain('Both weights are 0, so Route 53 serves this pair 50/50.');
  });

  it('does not warn about ordinary pairs', () => {
    expect(serviceLines(api())).not.toContain('Both weights are 0');
  });

  it('shows a typed read error escaped', () => {
    const lines = serviceLines(api({ pair: new InvalidRecords('No weighted record <k8s> for api.example.com & co') }));
    expect(lines).toBe('*api* (api.example.com)\n:warning: No weighted record &lt;k8s&gt; for api.example.com &amp; co');
  });

  it('hides the text of an unexpected error behind a pointer to the logs', () => {
    const lines = serviceLines(api({ pair: new TypeError("Cannot read properties of undefined (reading 'Weight') at /app/dist/x.js:1") }));
    expect(lines).toContain('could not be read (see the bot logs).');
    expect(lines).not.toContain('Cannot read');
    expect(lines).not.toContain('/app/dist');
  });

  it('names an open request, its status and requester', () => {
    expect(serviceLines(api({ open }))).toContain(
      'Open request #5 (requested) from <@U0ALICE>: `api: Kubernetes 20% · EC2 80% → Kubernetes 40% · EC2 60%`',
    );
  });

  it('appends lines other features contribute, last', () => {
    const lines = serviceLines(api({ extra: ['Versions: k8s abc123 · EC2 abc123'] })).split('\n');
    expect(lines.at(-1)).toBe('Versions: k8s abc123 · EC2 abc123');
  });
});

describe('renderStatus', () => {
  it('services in order, packed into sections, then how to change a split', () => {
    const m = renderStatus([api(), { service: 'web', recordName: 'www.example.com', pair: pair(0, 100) }]);
    expect(m.text).toBe('Status of 2 service(s)');
    const texts = sectionTexts(m);
    expect(texts).toHaveLength(1);
    const [first, second] = texts[0]!.split('\n\n');
    expect(first).toMatch(/^\*api\*/);
    expect(second).toMatch(/^\*web\*/);
    const last = m.blocks.at(-1);
    expect(last?.type).toBe('context');
    expect(JSON.stringify(last)).toContain('/strangle <service> <0-100> [reason]');
  });

  it('places extra texts after the services and before the closing context', () => {
    const m = renderStatus([api()], ['*nightly-report* (CronJob jobs/nightly-report)']);
    const texts = sectionTexts(m).join('\n\n').split('\n\n');
    expect(texts.at(-1)).toBe('*nightly-report* (CronJob jobs/nightly-report)');
    expect(m.blocks.at(-1)?.type).toBe('context');
  });

  it('with extra texts but no services still renders them', () => {
    const m = renderStatus([], ['cron only']);
    expect(sectionTexts(m)[0]).toBe('cron only');
  });

  it('never exceeds the 50 blocks Slack accepts, and says how many were left out', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ ...api(), service: `svc${i}`, extra: ['x'.repeat(200)] }));
    const m = renderStatus(many);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    const texts = sectionTexts(m);
    const shown = texts.slice(0, -1).join('\n\n').split('\n\n').length;
    expect(texts.at(-1)).toBe(`…and ${1000 - shown} more: ask for one with \`/strangle status <service>\`.`);
    expect(texts.every((t) => t.length <= 3000)).toBe(true);
  });

  it('with nothing at all says how to configure services', () => {
    const m = renderStatus([]);
    expect(m.text).toBe('No services are configured.');
    expect(sectionTexts(m)[0]).toContain('Add them under `services:` in strangler.yml.');
  });
});
