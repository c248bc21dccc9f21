import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigInvalid } from '../../src/core/errors.js';

const route53 = { hostedZoneId: 'Z0123', recordName: 'api.example.com', kubernetesSetIdentifier: 'k', ec2SetIdentifier: 'e' };
const gate = { name: '5xx', prometheus: { url: 'http://prometheus:9090', query: 'up' }, max: 0.01 };

function config(services: Record<string, unknown>) {
  return { slack: { approvers: ['U0BOB'] }, services };
}

function problems(raw: unknown): string {
  try {
    parseConfig(raw, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigInvalid);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('services.<name>.ramp', () => {
  it('parses with defaults, the bake in milliseconds', () => {
    const c = parseConfig(config({ api: { route53, ramp: { steps: [10, 25], bake: '15m', gates: [gate] } } }), 'test');
    expect(c.services['api']!.ramp).toEqual({
      steps: [10, 25],
      bake: 900_000,
      onFailure: 'rollback',
      allowWithoutGates: false,
      gates: [{ ...gate, failureLimit: 2 }],
    });
  });

  it('names each bad field', () => {
    const text = problems(config({ api: { route53, ramp: { steps: [10, 120], bake: '15x', onFailure: 'panic', gates: [{ name: 'g', prometheus: gate.prometheus }], extra: 1 } } }));
    expect(text).toContain('services.api.ramp.steps');
    expect(text).toContain('services.api.ramp.bake');
    expect(text).toContain('services.api.ramp.onFailure');
    expect(text).toContain('has neither `min` nor `max`');
    expect(text).toMatch(/extra/);
  });

  it('`ramp` cannot be a service name', () => {
    expect(problems(config({ ramp: { route53 } }))).toContain('cannot be a /strangle subcommand');
  });
});
