import { describe, expect, it } from 'vitest';
import { escapeText, formatDuration, mention, slackDate } from '../../src/slack/escape.js';

describe('escapeText', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here|here>', '&lt;!here|here&gt;'],
    ['<@U0BOB>', '&lt;@U0BOB&gt;'],
    ['<http://x|y>', '&lt;http://x|y&gt;'],
    ['a & b', 'a &amp; b'],
  ])('disarms %j', (raw, escaped) => {
    expect(escapeText(raw)).toBe(escaped);
  });

  it('escapes & first, so an already escaped entity shows literally instead of turning into markup', () => {
    expect(escapeText('&lt;!channel&gt;')).toBe('&amp;lt;!channel&amp;gt;');
  });

  it('leaves ordinary text, mrkdwn emphasis and unicode alone', () => {
    expect(escapeText('canary *looks* good ✅ — ok')).toBe('canary *looks* good ✅ — ok');
  });

  it('leaves no raw angle bracket behind', () => {
    expect(escapeText('<<a>> <b')).not.toMatch(/[<>]/);
  });
});

describe('mention', () => {
  it.each(['U0ALICE', 'W0CAROL', 'U123ABC'])('turns the user id %s into a mention', (id) => {
    expect(mention(id)).toBe(`<@${id}>`);
  });

  it.each([
    ['!channel', '!channel'],
    ['U0BOB><!channel', 'U0BOB&gt;&lt;!channel'],
    ['u0lower', 'u0lower'],
    ['S0GROUP', 'S0GROUP'],
    ['C0CHAN', 'C0CHAN'],
    ['', ''],
    ['U', 'U'],
  ])('refuses to make markup of the odd id %j', (id, shown) => {
    expect(mention(id)).toBe(shown);
    expect(mention(id)).not.toContain('<');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [400, '0 s'],
    [59_000, '59 s'],
    [60_000, '1 min'],
    [65_000, '1 min 5 s'],
    [59 * 60_000 + 59_000, '59 min 59 s'],
    [3_600_000, '1 h'],
    [2 * 3_600_000 + 3 * 60_000, '2 h 3 min'],
    [2 * 3_600_000 + 3 * 60_000 + 30_000, '2 h 3 min'],
  ])('%i ms reads %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('rounds to the nearest second, carrying into minutes', () => {
    expect(formatDuration(59_600)).toBe('1 min');
    expect(formatDuration(41_499)).toBe('41 s');
  });
});

describe('slackDate', () => {
  it('is a date token with the time in seconds and a UTC fallback', () => {
    expect(slackDate(Date.UTC(2026, 10, 25, 9, 3, 52, 999))).toBe('<!date^1795597432^{date_short_pretty} {time}|2026-11-25 09:03 UTC>');
  });
});
