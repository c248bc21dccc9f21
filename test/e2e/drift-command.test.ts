import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, baseConfig, BotHarness } from '../support/bot-harness.js';
import { VersionEndpoints } from '../support/version-endpoints.js';

describe('/strangle drift and versions in /strangle status', () => {
  let h: BotHarness;
  let http: VersionEndpoints;

  beforeAll(async () => {
    http = await VersionEndpoints.start();
    const k = http.set('/k8s/api', 'def456');
    const e = http.set('/ec2/api', 'abc123');
    http.set('/k8s/web', 'w1');
    http.set('/ec2/web', 'w1');
    const base = baseConfig() as { slack: Record<string, unknown>; services: Record<string, Record<string, unknown>> };
    h = await BotHarness.start({
      config: {
        ...base,
        slack: { ...base.slack, alertChannel: 'C0ALERTS' },
        services: {
          api: { ...base.services.api, version: { kubernetes: { url: k, field: 'commit' }, ec2: { url: e, field: 'commit' } } },
          web: { ...base.services.web, version: { kubernetes: { url: `${http.url}/k8s/web`, field: 'commit' }, ec2: { url: `${http.url}/ec2/web`, field: 'commit' } } },
        },
        drift: { intervalSeconds: 5, graceSeconds: 600, remindEveryMinutes: 240 },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await http?.close();
  });

  it('checks every service now and answers privately with a table', async () => {
    const table = await h.ask(ALICE, 'drift');
    expect(table).toContain('*api*: Kubernetes `def456` · EC2 `abc123`, *drifting for 0 s*');
    expect(table).toContain('*web*: Kubernetes `w1` · EC2 `w1`, *in sync*');
    // Inside the grace period: nothing was posted to the alert channel.
    expect(h.slack.messages('C0ALERTS')).toHaveLength(0);
  });

  it('status shows the versions from the last scheduled check', async () => {
    const status = await h.slack.waitFor(
      async () => {
        const s = await h.ask(ALICE, 'status api');
        return s.includes('Versions: Kubernetes') ? s : undefined;
      },
      15_000,
      'a drift tick to record versions',
    );
    expect(status).toMatch(/Versions: Kubernetes `def456` · EC2 `abc123`, drifting for \d+ s \(checked \d+ s ago\)/);
  });
});
