/**
 * A hundred services in one hosted zone, behind Route 53's 5 requests/s account limit: status
 * must cost one listing per 300 records (not one per service) and must still fit in one Slack
 * message (50 blocks at most; Slack refuses more and the person asking would see nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BotHarness, ZONE } from '../support/bot-harness.js';
import { renderedText } from '../support/slack-stand-in.js';
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

  it('ten people asking at once share one listing, each answered with every service', async () => {
    const records = h.r53.records(ZONE).length;
    const before = h.r53.calls.length;
    // The first listing call is held at the stand-in until all ten commands are acked, so "at
    // once" is a state of the test, not a race against the machine's speed.
    const held = h.r53.holdNext('ListResourceRecordSets');
    const cmds = await Promise.all(Array.from({ length: 10 }, () => h.command(ALICE, 'status')));
    for (const c of cmds) expect(c.http.status).toBe(200);
    await held.reached;
    held.release();
    const replies = await Promise.all(cmds.map((c) => h.reply(c, 10_000)));

    const calls = h.r53.calls.slice(before);
    expect(calls.map((c) => c.operation)).toEqual(Array(Math.ceil(records / 300)).fill('ListResourceRecordSets'));
    expect(calls.every((c) => c.status === 200)).toBe(true);
    for (const r of replies) {
      expect(r).toContain('*svc099*');
      expect(r).toContain('Kubernetes 42% · EC2 58%');
    }
  });

  it('shares a listing only while it is in flight: a later status reads again and shows the change', async () => {
    const records = h.r53.records(ZONE).length;
    await h.ask(ALICE, 'status', {}, 10_000);
    h.r53.setWeight(ZONE, 'svc042.example.com', 'A', 'primary', 60);
    h.r53.setWeight(ZONE, 'svc042.example.com', 'A', 'secondary', 40);
    const before = h.r53.calls.length;
    const reply = await h.ask(ALICE, 'status', {}, 10_000);
    // Answered listings: a call the 5/s limit throttled and the SDK retried is the same listing.
    expect(h.r53.calls.slice(before).filter((c) => c.status === 200)).toHaveLength(Math.ceil(records / 300));
    expect(reply).toContain('Kubernetes 60% · EC2 40%');
  });

  it('a change request never joins a status listing: it reads the records afresh for its compare-and-swap', async () => {
    h.r53.setWeight(ZONE, 'svc007.example.com', 'A', 'primary', 10);
    h.r53.setWeight(ZONE, 'svc007.example.com', 'A', 'secondary', 90);
    const held = h.r53.holdNext('ListResourceRecordSets');
    const status = await h.command(ALICE, 'status');
    await held.reached;
    // Changed by someone else while the status listing is in flight: the request must see it.
    h.r53.setWeight(ZONE, 'svc007.example.com', 'A', 'primary', 20);
    h.r53.setWeight(ZONE, 'svc007.example.com', 'A', 'secondary', 80);
    const before = h.r53.calls.length;
    const ack = await h.ask(ALICE, 'svc007 30 next step', {}, 10_000);
    const id = Number(/Request #(\d+)/.exec(ack)?.[1]);
    const message = await h.waitForApproval(id, 'waits for approval', 10_000);
    expect(renderedText(message)).toContain('svc007: Kubernetes 20% · EC2 80% → Kubernetes 30%');
    expect(h.r53.calls.slice(before).filter((c) => c.operation === 'ListResourceRecordSets').length).toBeGreaterThanOrEqual(1);
    held.release();
    await h.reply(status, 10_000);
  });
});
