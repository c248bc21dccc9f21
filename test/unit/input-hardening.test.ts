import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { readTuning } from '../../src/config/tuning.js';
import { parseCommand } from '../../src/core/command.js';
import { ConfigInvalid, StranglerError } from '../../src/core/errors.js';
import { renderError } from '../../src/slack/render-error.js';

const known = { services: ['api', 'web'], cronJobs: [] };

function errorOf(text: string): StranglerError {
  try {
    parseCommand(text, known);
  } catch (err) {
    if (err instanceof StranglerError) return err;
    throw err;
  }
  throw new Error(`"${text}" parsed`);
}

describe('user input quoted back in error messages', () => {
  it.each(['<https://evil.example|click> 30', '<!channel> 30', 'a&b 30'])('%j cannot become markup in the reply', (text) => {
    const m = renderError(errorOf(text));
    expect(m.text).not.toMatch(/[<>&]/);
    expect(JSON.stringify(m.blocks)).not.toMatch(/<!channel>|<https:/);
  });

  it('is cut on whole characters, never inside an emoji', () => {
    const err = errorOf(`a${'😀'.repeat(50)} 30`);
    // A lone surrogate would mean a character was cut in half.
    expect(err.message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(err.message).toContain('…');
  });

  it('drops bidi overrides and says when nothing printable is left', () => {
    expect(errorOf('\u202eipa 30').message).not.toContain('\u202e');
    expect(errorOf('\u0000 30').message).toContain('(unprintable)');
  });
});

describe('config and tuning refuse what would misbehave later', () => {
  const slack = { approvers: ['U0BOB'] };
  const route53 = { hostedZoneId: 'Z1', recordName: 'x.example.com', kubernetesSetIdentifier: 'a', ec2SetIdentifier: 'b' };

  it('a bad service name gets the schema explanation', () => {
    expect(() => parseConfig({ slack, services: { 'api v2': { route53 } } }, 't')).toThrow(/services\.api v2: names are letters, digits, - and _/);
  });

  it('a service named like a subcommand is refused, since /strangle drift 30 could never reach it', () => {
    try {
      parseConfig({ slack, services: { drift: { route53 } } }, 't');
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigInvalid);
      expect((err as ConfigInvalid).problems[0]).toMatch(/^services\.drift: names cannot be a \/strangle subcommand/);
    }
  });

  it.each([' ', '2.5', '-1', 'ten'])('tuning value %j is refused with the variable name', (v) => {
    expect(() => readTuning({ STRANGLER_ROUTE53_POLL_MS: v })).toThrow(/STRANGLER_ROUTE53_POLL_MS/);
  });
});

describe('what the Slack libraries log', () => {
  it('never carries a token, whatever they quote', async () => {
    const { scrub } = await import('../../src/slack/slack-logger.js');
    const line = scrub(['http request body:', 'token=xoxb-123-456-abcDEF&channel=C1', { toString: () => 'app xapp-1-A0-99-ff' }]);
    expect(line).not.toMatch(/xoxb-|xapp-/);
    expect(line).toContain('channel=C1');
  });
});
