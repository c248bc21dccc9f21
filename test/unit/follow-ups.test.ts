import { describe, expect, it, vi } from 'vitest';
import { FollowUps } from '../../src/slack/follow-ups.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** A few turns of the event loop: long enough for a wrongly started follow-up to show. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('FollowUps', () => {
  it('runs at most `concurrency` at once and the rest in arrival order', async () => {
    const f = new FollowUps({ concurrency: 2, maxPending: 10 });
    const gates = Array.from({ length: 4 }, gate);
    const started: number[] = [];
    gates.forEach((g, i) =>
      f.run(async () => {
        started.push(i);
        await g.promise;
      }),
    );
    await vi.waitFor(() => expect(started).toEqual([0, 1]));
    await settle();
    expect(started).toEqual([0, 1]);
    expect(f.pending).toBe(2);
    gates[1]!.open();
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    await settle();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await f.drain();
    expect(started).toEqual([0, 1, 2, 3]);
    expect(f.pending).toBe(0);
  });

  it('has no room once `maxPending` wait, and room again as they start', async () => {
    const f = new FollowUps({ concurrency: 1, maxPending: 1 });
    const g = gate();
    f.run(() => g.promise);
    await vi.waitFor(() => expect(f.pending).toBe(0));
    expect(f.hasRoom).toBe(true);
    f.run(async () => undefined);
    expect(f.hasRoom).toBe(false);
    g.open();
    await f.drain();
    expect(f.hasRoom).toBe(true);
  });

  it('a failing follow-up frees its slot and does not stop the others', async () => {
    const f = new FollowUps({ concurrency: 1 });
    const ran: string[] = [];
    f.run(async () => {
      throw new Error('boom');
    });
    f.run(async () => {
      ran.push('second');
    });
    await f.drain();
    expect(ran).toEqual(['second']);
  });

  it('starts no follow-up before the requests already waiting on the event loop are taken', async () => {
    const f = new FollowUps({ concurrency: 4 });
    const order: string[] = [];
    f.run(async () => {
      order.push('follow-up');
    });
    // An I/O-like callback queued after run(): it still comes first.
    setImmediate(() => order.push('request'));
    await f.drain();
    expect(order).toEqual(['request', 'follow-up']);
  });
});
