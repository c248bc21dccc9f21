import { describe, expect, it } from 'vitest';
import type { ChangeRequest, RequestStatus } from '../../src/core/change-request.js';
import type { Block, Button, SlackMessage } from '../../src/slack/blocks.js';
import { describeChange, renderApprovalMessage, renderRequestAck } from '../../src/slack/render-request.js';
import { snapshotOf, weightRequestAt } from './request-fixture.js';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

function weightRequest(status: RequestStatus, over: Partial<ChangeRequest> = {}): ChangeRequest {
  return weightRequestAt(T0, status, over);
}

function cronRequest(status: RequestStatus, over: Partial<ChangeRequest> = {}): ChangeRequest {
  return weightRequest(status, { id: 20, change: { kind: 'cron', job: 'nightly-report', from: 'kubernetes', to: 'ec2' }, ...over });
}

const decided = { decidedBy: 'U0BOB', decidedAt: T0 + 60_000 };
const failure = { code: 'STALE_CHANGE', message: 'The records changed since the request: weight of k8s is now 20.', hint: 'Check `/strangle status`.' };

function buttons(m: SlackMessage): Button[] {
  return m.blocks.flatMap((b) => (b.type === 'actions' ? [...b.elements] : []));
}

/** Everything a reader can see in the blocks, in order. */
function blockText(m: SlackMessage): string {
  const one = (b: Block): string[] => {
    switch (b.type) {
      case 'section':
        return [b.text.text];
      case 'context':
        return b.elements.map((e) => e.text);
      case 'actions':
        return b.elements.map((e) => e.text.text);
      default:
        return [];
    }
  };
  return m.blocks.flatMap(one).join('\n');
}

describe('renderApprovalMessage: requested', () => {
  const m = renderApprovalMessage(weightRequest('requested'));

  it('has exactly two buttons, Approve then Reject, carrying the request id', () => {
    const bs = buttons(m);
    expect(bs.map((b) => b.text.text)).toEqual(['Approve', 'Reject']);
    expect(bs.map((b) => b.action_id)).toEqual(['approve', 'reject']);
    expect(bs.map((b) => b.value)).toEqual(['12', '12']);
    expect(bs.map((b) => b.style)).toEqual(['primary', 'danger']);
  });

  it('gives the actions block an id unique to the request', () => {
    const a = m.blocks.find((b) => b.type === 'actions');
    expect(a).toMatchObject({ block_id: 'request-12' });
  });

  it('says what would change, who asked, why and until when', () => {
    expect(m.text).toBe('Request #12 waits for approval: api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%');
    const text = blockText(m);
    expect(text).toContain('*Request #12* (traffic shift) from <@U0ALICE>');
    expect(text).toContain('`api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%`');
    expect(text).toContain('Reason: canary looks good');
    expect(text).toContain(`Expires <!date^${(T0 + 30 * 60_000) / 1000}^`);
    expect(text).toContain('if nobody decides');
  });

  it('omits the reason line when there is no reason', () => {
    expect(blockText(renderApprovalMessage(weightRequest('requested', { reason: '' })))).not.toContain('Reason:');
  });
});

describe('renderApprovalMessage: in flight', () => {
  it.each(['approved', 'applying'] as const)('%s says who approved it, that it is applying, and has no buttons', (status) => {
    const m = renderApprovalMessage(weightRequest(status, decided));
    expect(m.text).toBe('Request #12 approved by <@U0BOB>, applying…');
    expect(blockText(m)).toContain('Approved by <@U0BOB>, applying…');
    expect(buttons(m)).toEqual([]);
  });
});

describe('renderApprovalMessage: applied', () => {
  const applied = weightRequest('applied', { ...decided, applyStartedAt: T0 + 61_000, finishedAt: T0 + 60_000 + 41_000 });

  it('has exactly one button, Roll back, carrying the request id', () => {
    const bs = buttons(renderApprovalMessage(applied));
    expect(bs).toHaveLength(1);
    expect(bs[0]).toMatchObject({ text: { text: 'Roll back' }, action_id: 'rollback', value: '12' });
  });

  it('states the new split, how long it took from approval and who approved', () => {
    const m = renderApprovalMessage(applied);
    expect(m.text).toBe('Request #12 applied: api now serves Kubernetes 30% · EC2 70%');
    const text = blockText(m);
    expect(text).toContain('Applied and verified: api now serves Kubernetes 30% · EC2 70%.');
    expect(text).toContain('Took 41 s from approval.');
    expect(text).toContain('Approved by <@U0BOB>.');
  });

  it('leaves the duration out when it is not known', () => {
    const m = renderApprovalMessage(weightRequest('applied', { decidedBy: 'U0BOB' }));
    expect(blockText(m)).not.toContain('Took');
  });

  it('shows notes gathered while applying, escaped', () => {
    const m = renderApprovalMessage({ ...applied, notes: ['lock held by <ip-10-0-1-5> & co'] });
    expect(blockText(m)).toContain('lock held by &lt;ip-10-0-1-5&gt; &amp; co');
  });

  it('a cron move says where the job now runs', () => {
    const m = renderApprovalMessage(cronRequest('applied', { ...decided, finishedAt: T0 + 120_000 }));
    expect(m.text).toBe('Request #20 applied: nightly-report now runs on EC2');
    expect(blockText(m)).toContain('Took 1 min from approval.');
  });
});

describe('renderApprovalMessage: closed without change', () => {
  it.each([
    ['rejected', { ...decided, finishedAt: T0 + 60_000 }, 'Request #12 rejected by <@U0BOB>; nothing changed.', 'Rejected by <@U0BOB>. Nothing changed.'],
    ['cancelled', { decidedBy: 'U0ALICE', finishedAt: T0 + 1 }, 'Request #12 withdrawn; nothing changed.', 'Withdrawn by <@U0ALICE>. Nothing changed.'],
    ['expired', { finishedAt: T0 + 30 * 60_000 }, 'Request #12 expired; nothing changed.', 'Nothing changed. Make a new request if it is still needed.'],
  ] as const)('%s says nothing changed and has no buttons', (status, over, text, line) => {
    const m = renderApprovalMessage(weightRequest(status, over));
    expect(m.text).toBe(text);
    expect(blockText(m)).toContain(line);
    expect(buttons(m)).toEqual([]);
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('a cancelled request with no decider recorded credits the requester', () => {
    expect(blockText(renderApprovalMessage(weightRequest('cancelled')))).toContain('Withdrawn by <@U0ALICE>.');
  });
});

describe('renderApprovalMessage: not applied', () => {
  it('stale shows the failure message and its hint, and no buttons', () => {
    const m = renderApprovalMessage(weightRequest('stale', { ...decided, failure }));
    expect(m.text).toBe('Request #12 is stale; nothing was applied.');
    const text = blockText(m);
    expect(text).toContain('Not applied, the request is stale. The records changed since the request: weight of k8s is now 20.\nCheck `/strangle status`.');
    expect(buttons(m)).toEqual([]);
  });

  it('failed shows the failure message in the notification and the hint in the message, and no buttons', () => {
    const m = renderApprovalMessage(weightRequest('failed', { ...decided, failure: { code: 'VERIFY_FAILED', message: 'Route 53 did not confirm', hint: 'Roll back if needed.' } }));
    expect(m.text).toBe('Request #12 failed: Route 53 did not confirm');
    expect(blockText(m)).toContain('Failed. Route 53 did not confirm\nRoll back if needed.');
    expect(buttons(m)).toEqual([]);
  });

  it('failed without a recorded failure still says it failed', () => {
    expect(renderApprovalMessage(weightRequest('failed', decided)).text).toBe('Request #12 failed: unknown error');
  });

  it('a failure message is escaped, since it may quote what an outside system returned', () => {
    const m = renderApprovalMessage(weightRequest('failed', { failure: { code: 'X', message: 'got <!here> & <@U0X>' } }));
    const all = `${m.text}\n${blockText(m)}`;
    expect(all).not.toContain('<!here>');
    expect(all).not.toContain('<@U0X>');
    expect(m.text).toContain('got &lt;!here&gt; &amp; &lt;@U0X&gt;');
  });
});

describe('renderApprovalMessage: user text is disarmed', () => {
  const reason = 'see <!channel> <@U0BOB> <https://evil.example|click> & co';

  it.each(['requested', 'applying', 'applied', 'rejected', 'cancelled', 'expired', 'stale', 'failed'] as const)(
    'a reason with Slack markup appears only escaped when %s',
    (status) => {
      const m = renderApprovalMessage(weightRequest(status, { reason, ...decided, finishedAt: T0 + 120_000 }));
      const everything = JSON.stringify(m);
      expect(everything).not.toContain('<!channel>');
      expect(everything).not.toContain('<@U0BOB> <https');
      expect(everything).not.toContain('<https://evil');
      expect(m.text).not.toContain('<!channel>');
      expect(blockText(m)).toContain('Reason: see &lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click&gt; &amp; co');
    },
  );

  it('an odd requester id is not turned into a mention', () => {
    const m = renderApprovalMessage(weightRequest('requested', { requestedBy: '!channel' }));
    expect(JSON.stringify(m)).not.toContain('<!channel>');
  });
});

describe('renderApprovalMessage: titles and changes', () => {
  it('a rollback request is titled as the rollback of the request it undoes', () => {
    const m = renderApprovalMessage(weightRequest('requested', { rollbackOf: 9 }));
    expect(blockText(m)).toContain('*Request #12* (rollback of #9)');
    expect(blockText(m)).not.toContain('traffic shift');
  });

  it('a cron move is titled as such and renders the move between platforms', () => {
    const m = renderApprovalMessage(cronRequest('requested'));
    expect(blockText(m)).toContain('*Request #20* (cron move) from <@U0ALICE>\n`nightly-report: Kubernetes → EC2`');
    expect(m.text).toBe('Request #20 waits for approval: nightly-report: Kubernetes → EC2');
  });

  it('describeChange shows both splits of a weight change, from weights that do not sum to 100 too', () => {
    const r = weightRequest('requested', { change: { kind: 'weight', service: 'web', from: { kubernetes: 0, ec2: 0 }, to: { kubernetes: 3, ec2: 1 }, snapshot: snapshotOf({ kubernetes: 0, ec2: 0 }) } });
    expect(describeChange(r)).toBe('web: Kubernetes 50% · EC2 50% → Kubernetes 75% · EC2 25%');
  });
});

describe('renderRequestAck', () => {
  it('points the requester to the approval channel and says how to withdraw', () => {
    const m = renderRequestAck(weightRequest('requested'), 'C0APPROVALS');
    expect(m.text).toBe('Request #12 is waiting for approval in <#C0APPROVALS>: `api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%`');
    expect(blockText(m)).toContain('Withdraw it with `/strangle cancel 12`.');
    expect(buttons(m)).toEqual([]);
  });

  it.each(['approved', 'applying', 'applied', 'rejected'] as const)('says the request is already %s when a click beat the post, without offering to withdraw it', (status) => {
    const m = renderRequestAck(weightRequest(status, decided), 'C0APPROVALS');
    expect(m.text).toBe(`Request #12 was posted in <#C0APPROVALS> and is already ${status}: \`api: Kubernetes 10% · EC2 90% → Kubernetes 30% · EC2 70%\``);
    expect(blockText(m)).not.toContain('cancel');
  });
});
