import { describe, expect, it } from 'vitest';
import { NoChange, RequestClosed, StepTooLarge, StranglerError, Throttled } from '../../src/core/errors.js';
import type { SlackMessage } from '../../src/slack/blocks.js';
import { renderError } from '../../src/slack/render-error.js';

const all = (m: SlackMessage) => JSON.stringify(m);

describe('renderError', () => {
  it('a StranglerError becomes its message, with its hint underneath', () => {
    const err = new StepTooLarge('api', 10, 60, 25, 35);
    const m = renderError(err);
    expect(m.text).toBe(err.message);
    expect(m.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: `:warning: ${err.message}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Largest allowed: 35. Move in steps, e.g. `/strangle api 35`.' }] },
    ]);
  });

  it('a StranglerError without a hint has no empty context under it', () => {
    const m = renderError(new RequestClosed(4, 'applied'));
    expect(m.blocks).toHaveLength(1);
    expect(m.text).toBe('Request #4 is already applied; nothing changed.');
    expect(renderError(new NoChange('api', 'Kubernetes 30% · EC2 70%')).blocks).toHaveLength(1);
  });

  it('a retryable error says to try again', () => {
    expect(all(renderError(new Throttled('Route 53 is throttling')))).toContain('Try again in a minute.');
  });

  it('a subclass defined elsewhere is still treated as a StranglerError', () => {
    class Custom extends StranglerError {
      constructor() {
        super('NOT_FOUND', 'No such thing.', { hint: 'Look elsewhere.' });
      }
    }
    const m = renderError(new Custom());
    expect(m.text).toBe('No such thing.');
    expect(all(m)).toContain('Look elsewhere.');
  });

  it('an unexpected Error gives a generic answer that leaks neither its message nor its stack', () => {
    const err = new Error('connect ECONNREFUSED 10.0.0.7:6379 password=hunter2');
    err.stack = 'Error: connect ECONNREFUSED\n    at /app/dist/store/request-store.js:42:7';
    const m = renderError(err);
    expect(m.text).toBe('Something went wrong on the bot side, and nothing was changed.');
    const everything = all(m);
    expect(everything).not.toContain('ECONNREFUSED');
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('10.0.0.7');
    expect(everything).not.toContain('request-store');
    expect(everything).toContain('the bot logs say why');
  });

  it.each([
    ['a string', 'secret string'],
    ['an object', { message: 'secret object' }],
    ['undefined', undefined],
    ['null', null],
  ])('something thrown that is not an Error (%s) gets the same generic answer', (_, thrown) => {
    const m = renderError(thrown);
    expect(m.text).toBe('Something went wrong on the bot side, and nothing was changed.');
    expect(all(m)).not.toContain('secret');
  });

  it('an object that only looks like a StranglerError is not trusted', () => {
    const m = renderError({ code: 'BAD_COMMAND', message: 'forged <!channel>', hint: 'x' });
    expect(all(m)).not.toContain('forged');
  });
});
