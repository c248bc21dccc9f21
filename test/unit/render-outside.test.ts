import { describe, expect, it } from 'vitest';
import type { OutsideEpisode } from '../../src/core/outside-change.js';
import { outsideStatusLines, renderOutsideAlert, renderOutsideResolved } from '../../src/slack/render-outside.js';

const T0 = Date.UTC(2026, 11, 5, 10, 42);
const episode: OutsideEpisode = { key: 'K1', from: { kubernetes: 30, ec2: 70 }, live: { kubernetes: 50, ec2: 50 }, since: T0, changedAt: T0 };
const text = (m: { blocks: readonly unknown[] }) => JSON.stringify(m.blocks);

describe('renderOutsideAlert', () => {
  it('says what changed and when, with Restore and Accept carrying the episode', () => {
    const m = renderOutsideAlert('api', episode);
    expect(m.text).toContain('*api*: weights changed outside strangler, 30/70 → 50/50, first seen <!date^');
    expect(m.text).toContain('|2026-12-05 10:42 UTC>');
    const buttons = (m.blocks.at(-1) as unknown as { elements: Array<{ text: { text: string }; value: string; action_id: string }> }).elements;
    expect(buttons.map((b) => [b.text.text, b.action_id, b.value])).toEqual([
      ['Restore 30/70', 'outside_restore', 'api.K1'],
      ['Accept', 'outside_accept', 'api.K1'],
    ]);
  });

  it('says when the split changed again', () => {
    const m = renderOutsideAlert('api', { ...episode, live: { kubernetes: 70, ec2: 30 }, changedAt: T0 + 60_000 });
    expect(m.text).toContain('30/70 → 70/30');
    expect(m.text).toContain('changed again');
  });
});

describe('renderOutsideResolved', () => {
  it('returned to the baseline: no buttons, says which split it is', () => {
    const m = renderOutsideResolved('api', episode, { type: 'returned', baseline: { weights: { kubernetes: 30, ec2: 70 }, source: 'applied', at: 0 } }, T0 + 600_000);
    expect(m.text).toContain('Back at 30/70, the split strangler last applied');
    expect(text(m)).not.toContain('"button"');
  });

  it('accepted: names the approver', () => {
    const m = renderOutsideResolved('api', episode, { type: 'accepted', by: 'U0BOB', live: { kubernetes: 50, ec2: 50 } }, T0);
    expect(m.text).toContain('Accepted by <@U0BOB>');
    expect(m.text).toContain('50/50 is now the split strangler expects');
    expect(text(m)).not.toContain('"button"');
  });
});

describe('outsideStatusLines', () => {
  it('nothing when all is as expected', () => {
    expect(outsideStatusLines(undefined, [])).toEqual([]);
    expect(outsideStatusLines({ service: 'api', checkedAt: 0 }, [])).toEqual([]);
  });

  it('an outside change in progress, and each external-dns claim, escaped', () => {
    const lines = outsideStatusLines({ service: 'api', checkedAt: 0, episode: { ...episode, alert: { channel: 'C1', ts: '1.0' } } }, [
      { txtName: 'a-api.example.com', owner: '<!channel>', resource: undefined },
    ]);
    expect(lines[0]).toContain('Changed outside strangler: 30/70 → 50/50');
    expect(lines[0]).toContain('Restore or Accept');
    expect(lines[1]).toContain('also claimed by external-dns (owner &lt;!channel&gt;) through TXT a-api.example.com');
  });
});
