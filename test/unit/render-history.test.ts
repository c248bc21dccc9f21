import { describe, expect, it } from 'vitest';
import type { ChangeRequest, RequestStatus } from '../../src/core/change-request.js';
import { weightRequestAt } from './request-fixture.js';
import type { SlackMessage } from '../../src/slack/blocks.js';
import { historyLine, renderHistory } from '../../src/slack/render-history.js';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
function req(status: RequestStatus, over: Partial<ChangeRequest> = {}): ChangeRequest {
  return weightRequestAt(T0, status, { id: 3, reason: '', from: { kubernetes: 0, ec2: 100 }, to: { kubernetes: 10, ec2: 90 }, ...over });
}

const texts = (m: SlackMessage) => m.blocks.map((b) => JSON.stringify(b));

describe('historyLine', () => {
  it('an applied request shows the change, who asked, who approved and how long it took', () => {
    const line = historyLine(req('applied', { decidedBy: 'U0BOB', decidedAt: T0 + 60_000, finishedAt: T0 + 60_000 + 65_000 }));
    expect(line.startsWith('*#3* `api: Kubernetes 0% · EC2 100% → Kubernetes 10% · EC2 90%` · ')).toBe(true);
    expect(line).toContain('asked by <@U0ALICE> <!date^');
    expect(line).toContain('approved by <@U0BOB> <!date^');
    expect(line).toContain('*applied in 1 min 5 s*');
  });

  it.each([
    ['rejected', 'rejected by <@U0BOB>'],
    ['cancelled', 'withdrawn by <@U0BOB>'],
    ['applying', 'approved by <@U0BOB>'],
  ] as const)('a %s request names the decision as %j', (status, words) => {
    expect(historyLine(req(status, { decidedBy: 'U0BOB', decidedAt: T0 + 1 }))).toContain(words);
  });

  it('an undecided request shows its status and no decider', () => {
    const line = historyLine(req('expired', { finishedAt: T0 + 1_800_000 }));
    expect(line).toContain('*expired*');
    expect(line).not.toContain(' by <@U0BOB>');
    expect(line).not.toContain('approved');
  });

  it('a failure is shown escaped after the outcome', () => {
    const line = historyLine(req('failed', { decidedBy: 'U0BOB', failure: { code: 'X', message: 'bad <!here> & worse' } }));
    expect(line).toContain('*failed*: bad &lt;!here&gt; &amp; worse');
    expect(line).not.toContain('<!here>');
  });

  it('a reason is shown escaped', () => {
    const line = historyLine(req('requested', { reason: '<!channel> & <@U0X>' }));
    expect(line).toContain('reason: &lt;!channel&gt; &amp; &lt;@U0X&gt;');
    expect(line).not.toContain('<!channel>');
  });

  it('a rollback names the request it undid', () => {
    expect(historyLine(req('requested', { rollbackOf: 2 }))).toContain('(rollback of #2)');
  });

  it('a cron move shows the platforms', () => {
    expect(historyLine(req('requested', { change: { kind: 'cron', job: 'cleanup', from: 'ec2', to: 'kubernetes' } }))).toContain(
      '`cleanup: EC2 → Kubernetes`',
    );
  });
});

describe('renderHistory', () => {
  it('lists requests in the order given under a count heading', () => {
    const m = renderHistory([req('applied', { id: 9 }), req('expired', { id: 8 })], 'api');
    expect(m.text).toBe('Last 2 request(s) for `api`');
    const list = texts(m)[1] ?? '';
    expect(list.indexOf('*#9*')).toBeGreaterThan(-1);
    expect(list.indexOf('*#9*')).toBeLessThan(list.indexOf('*#8*'));
    expect(texts(m).at(-1)).toContain('Newest first.');
  });

  it('without a target speaks of any service or job', () => {
    expect(renderHistory([req('requested')]).text).toBe('Last 1 request(s) for any service or job');
  });

  it('says so when there is nothing yet', () => {
    expect(renderHistory([], 'web').text).toBe('No requests yet for `web`.');
    expect(renderHistory([]).text).toBe('No requests yet for any service or job.');
  });
});
