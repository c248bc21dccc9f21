/**
 * `npm run sandbox -- --socket-mode`: the same sandbox with the bot on Socket Mode. The console
 * sends commands and clicks as envelopes on the bot's WebSocket; a change goes through request,
 * approval and apply exactly as over HTTP.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';

interface Item {
  kind: 'message' | 'private';
  ts?: string;
  text: string;
  blocks: Array<{ elements?: Array<{ action_id?: string }> }>;
}
interface State {
  channels: Array<{ id: string; items: Item[] }>;
  services: Array<{ name: string; kubernetes: number | null; ec2: number | null }>;
}

describe('the sandbox over Socket Mode', () => {
  let sandbox: Sandbox | undefined;
  afterAll(async () => {
    await sandbox?.stop();
  });

  async function api<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, sandbox!.url), body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, `${path}: ${res.status}`).toBe(200);
    return (await res.json()) as T;
  }

  async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('takes a command and a click through the WebSocket and applies the change', { timeout: 90_000 }, async () => {
    sandbox = await startSandbox({ port: 0, socketMode: true });
    expect(sandbox.transport).toBe('Socket Mode');
    const before = (await api<State>('/api/state?as=U0ALICE')).services[0]!;

    const target = before.kubernetes === 30 ? 40 : 30;
    await api('/api/command', { as: 'U0ALICE', channel: 'C0APPROVALS', text: `/strangle ${before.name} ${target} via socket mode` });
    const request = await until('the approval message', async () => {
      const items = (await api<State>('/api/state?as=U0BOB')).channels.find((c) => c.id === 'C0APPROVALS')!.items;
      return items.find((i) => i.kind === 'message' && i.text.includes('waits for approval'));
    });
    await api('/api/click', { as: 'U0BOB', channel: 'C0APPROVALS', ts: request.ts, actionId: 'approve' });
    const after = await until('the change to apply', async () => {
      const s = (await api<State>('/api/state?as=U0BOB')).services.find((x) => x.name === before.name)!;
      return s.kubernetes === target ? s : undefined;
    });
    expect(after.ec2).toBe(100 - target);
  });
});
