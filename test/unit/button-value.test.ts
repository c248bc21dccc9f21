import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buttonValue, parseButtonValue } from '../../src/slack/button-value.js';
import { renderApprovalMessage } from '../../src/slack/render-request.js';
import { weightRequestAt } from './request-fixture.js';

describe('button values', () => {
  it('carry the request number and its key, and read back as such', () => {
    const key = randomBytes(12).toString('base64url');
    expect(buttonValue({ id: 12, buttonKey: key })).toBe(`12.${key}`);
    expect(parseButtonValue(`12.${key}`)).toEqual({ id: 12, key });
  });

  it('round-trip for any request number and any key the bot draws', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 48 }), fc.uint8Array({ minLength: 1, maxLength: 32 }), (id, bytes) => {
        const buttonKey = Buffer.from(bytes).toString('base64url');
        expect(parseButtonValue(buttonValue({ id, buttonKey }))).toEqual({ id, key: buttonKey });
      }),
    );
  });

  it('read a bare number, as buttons posted before keys existed carry, as a number without key', () => {
    expect(buttonValue({ id: 7 })).toBe('7');
    expect(parseButtonValue('7')).toEqual({ id: 7 });
  });

  it.each(['', 'abc', '12.', '.abc', '12.a.b', '-3', '12 .abc', '1e3', `12.${'a'.repeat(65)}`, '12.<!channel>'])('refuse %j', (v) => {
    expect(parseButtonValue(v)).toBeUndefined();
  });

  it('refuse a missing value', () => {
    expect(parseButtonValue(undefined)).toBeUndefined();
  });

  it('are what every button of a keyed request carries, in every state that has buttons', () => {
    const t0 = Date.UTC(2026, 11, 2);
    for (const status of ['requested', 'applied'] as const) {
      const m = renderApprovalMessage(weightRequestAt(t0, status, { buttonKey: 'k3y_-Z', decidedBy: 'U0BOB' }));
      const values = m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => e.value) : []));
      expect(values.length).toBeGreaterThan(0);
      expect(new Set(values)).toEqual(new Set(['12.k3y_-Z']));
    }
  });
});
