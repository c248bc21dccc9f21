/**
 * A hundred services in one hosted zone, behind Route 53's 5 requests/s account limit: status
 * must cost one listing per 300 records (not one per service) and must still fit in one Slack
 * message (50 blocks at most; Slack refuses more and the person asking would see nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BotHarness, ZONE } from '../support/bot-harness.js';
import { configWith, seedServices } from './support/faults.js';

const SERVICES = Array.from({ length: 100 }, (_, i) => ({ name: `svc${String(i).padStart(3, '0')}`, kubernetes: i % 101 }));
const UNRELATED = 150;

describe('status over 100 services in one zone', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await BotHarness.start({ config: configWith(SERVICES) });
    seedServices(h, SERVICES);
    for (let i = 0; i < UNRELATED; i++) {
      h.r53.putRecord(ZONE, { Name: `host-${i}.internal.example.com.`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: `10.0.0.${i}` }] });
    }
    h.r53.rateLimit(5);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('costs ⌈records / 300⌉ listings, is never throttled, and fits in one message with every service', async () => {
    const records = h.r53.records(ZONE).length;
    expect(records).toBe(2 * SERVICES.length + 4 + 2 + UNRELATED); // + api/web pairs, NS and SOA
    const before = h.r53.calls.length;
    const cmd = await h.command(ALICE, 'status');
    const reply = await h.slack.waitFor(() => h.slack.responses(cmd.responseId)[0], 10_000, 'status reply');

    const calls = h.r53.calls.slice(before);
    expect(calls.map((c) => c.operation)).toEqual(Array(Math.ceil(records / 300)).fill('ListResourceRecordSets'));
    expect(calls.every((c) => c.status === 200)).toBe(true);
    expect(reply.blocks!.length).toBeLessThanOrEqual(50);
    const text = (reply.blocks ?? []).map((b) => JSON.stringify(b)).join('\n');
    for (const s of SERVICES) expect(text).toContain(`*${s.name}* (${s.name}.example.com)`);
    expect(text).toContain('Kubernetes 42% · EC2 58%');
  });
});
