import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/core/command.js';
import { BadCommand, UnknownService } from '../../src/core/errors.js';

const known = { services: ['api', 'web'], cronJobs: [] };
const parse = (text: string) => parseCommand(text, known);

function refusal(text: string): Error {
  try {
    parse(text);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('/strangle <service> ramp', () => {
  it('with nothing more: the configured plan', () => {
    expect(parse('api ramp')).toEqual({ kind: 'ramp', service: 'api', reason: '' });
    expect(parse('API Ramp moving on')).toEqual({ kind: 'ramp', service: 'api', reason: 'moving on' });
  });

  it('inline steps with a bake, then a reason', () => {
    expect(parse('api ramp 20 40 60 every 10m canary is fine')).toEqual({ kind: 'ramp', service: 'api', steps: [20, 40, 60], bake: '10m', reason: 'canary is fine' });
    expect(parse('api ramp 20% 40%')).toEqual({ kind: 'ramp', service: 'api', steps: [20, 40], reason: '' });
  });

  it('a bake alone reuses the configured steps', () => {
    expect(parse('api ramp every 2m')).toEqual({ kind: 'ramp', service: 'api', bake: '2m', reason: '' });
  });

  it('refuses steps that are not shares, a missing or bad bake, and too many steps', () => {
    expect(refusal('api ramp 20 140')).toBeInstanceOf(BadCommand);
    expect(refusal('api ramp 20 140').message).toContain('`140` is not a step');
    expect(refusal('api ramp 20 every').message).toContain('after `every`');
    expect(refusal('api ramp 20 every 10x').message).toContain('`10x` is not a bake time');
    expect(refusal('api ramp 20 every 0s').message).toContain('is not a bake time');
    expect(refusal('api ramp 20 every 1000h').message).toBe('`every 1000h` is refused: a bake must be at most 24h (1000h was given), the same bounds as `ramp.bake` in the config.');
    expect(refusal('api ramp every 24h1s').message).toContain('at most 24h');
    expect(parse('api ramp every 24h')).toMatchObject({ bake: '24h' });
    expect(parse('api ramp every 1s')).toMatchObject({ bake: '1s' });
    expect(refusal(`api ramp ${Array.from({ length: 21 }, (_, i) => i + 1).join(' ')}`).message).toContain('at most 20 steps');
  });

  it('a typo in the service name is an unknown service, not a bad subcommand', () => {
    expect(refusal('apu ramp')).toBeInstanceOf(UnknownService);
  });
});
