import { describe, expect, it } from 'vitest';
import { swappedFrom, unchangedSince, weightsOf } from '../../src/core/pair-snapshot.js';
import type { PairSnapshot } from '../../src/core/ports.js';

/** An alias pair as the SDK returns it, weights kept in step with the record's own Weight. */
function aliasPair(k8sWeight = 10, ec2Weight = 90): PairSnapshot {
  return {
    kubernetes: {
      setIdentifier: 'k8s',
      weight: k8sWeight,
      record: {
        Name: 'api.example.com.',
        Type: 'A',
        SetIdentifier: 'k8s',
        Weight: k8sWeight,
        AliasTarget: { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: 'k8s-nlb.elb.amazonaws.com.', EvaluateTargetHealth: true },
      },
    },
    ec2: {
      setIdentifier: 'ec2',
      weight: ec2Weight,
      record: {
        Name: 'api.example.com.',
        Type: 'A',
        SetIdentifier: 'ec2',
        Weight: ec2Weight,
        AliasTarget: { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: 'ec2-alb.elb.amazonaws.com.', EvaluateTargetHealth: false },
      },
    },
    ttl: null,
  };
}

function plainPair(): PairSnapshot {
  const rec = (id: string, weight: number, ip: string) => ({
    Name: 'web.example.com.',
    Type: 'A',
    SetIdentifier: id,
    Weight: weight,
    TTL: 60,
    ResourceRecords: [{ Value: ip }],
    HealthCheckId: `hc-${id}`,
  });
  return {
    kubernetes: { setIdentifier: 'k8s', weight: 0, record: rec('k8s', 0, '10.0.0.1') },
    ec2: { setIdentifier: 'ec2', weight: 100, record: rec('ec2', 100, '10.0.0.2') },
    ttl: 60,
  };
}

/** Same content, keys inserted in reverse order at every level: what a JSON round trip through Redis may do. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]));
  }
  return value;
}

function withRecord(p: PairSnapshot, side: 'kubernetes' | 'ec2', record: Record<string, unknown>): PairSnapshot {
  return { ...p, [side]: { ...p[side], record } };
}

describe('unchangedSince', () => {
  it('a pair equals itself and a deep copy of itself', () => {
    const p = aliasPair();
    expect(unchangedSince(p, p)).toBe(true);
    expect(unchangedSince(structuredClone(p), p)).toBe(true);
  });

  it('does not depend on the order of keys, nested ones included', () => {
    const p = plainPair();
    const shuffled = reversedKeys(p) as PairSnapshot;
    expect(Object.keys(shuffled.kubernetes.record)).not.toEqual(Object.keys(p.kubernetes.record));
    expect(unchangedSince(shuffled, p)).toBe(true);
    expect(unchangedSince(p, shuffled)).toBe(true);
  });

  it('treats a key set to undefined like an absent key, as JSON does', () => {
    const p = aliasPair();
    const withUndefined = withRecord(p, 'ec2', { ...p.ec2.record, HealthCheckId: undefined });
    expect(unchangedSince(withUndefined, p)).toBe(true);
  });

  it.each([
    ['alias target DNS name', (r: Record<string, unknown>) => ({ ...r, AliasTarget: { ...(r.AliasTarget as object), DNSName: 'other.elb.amazonaws.com.' } })],
    ['alias target health evaluation', (r: Record<string, unknown>) => ({ ...r, AliasTarget: { ...(r.AliasTarget as object), EvaluateTargetHealth: false } })],
    ['weight', (r: Record<string, unknown>) => ({ ...r, Weight: 11 })],
    ['a health check being added', (r: Record<string, unknown>) => ({ ...r, HealthCheckId: 'hc-new' })],
    ['a field being removed', (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'AliasTarget'))],
  ])('notices a change of the %s on the Kubernetes record', (_, change) => {
    const p = aliasPair();
    expect(unchangedSince(withRecord(p, 'kubernetes', change(p.kubernetes.record)), p)).toBe(false);
  });

  it.each([
    ['TTL', (r: Record<string, unknown>) => ({ ...r, TTL: 300 })],
    ['health check', (r: Record<string, unknown>) => ({ ...r, HealthCheckId: 'hc-other' })],
    ['record value', (r: Record<string, unknown>) => ({ ...r, ResourceRecords: [{ Value: '10.9.9.9' }] })],
    ['order of record values', (r: Record<string, unknown>) => ({ ...r, ResourceRecords: [{ Value: '10.0.0.2' }, { Value: '10.0.0.3' }] })],
    ['weight', (r: Record<string, unknown>) => ({ ...r, Weight: 99 })],
  ])('notices a change of the %s on the EC2 record', (_, change) => {
    const p = plainPair();
    expect(unchangedSince(withRecord(p, 'ec2', change(p.ec2.record)), p)).toBe(false);
  });

  it('notices the two records being swapped', () => {
    const p = aliasPair();
    const swapped: PairSnapshot = { ...p, kubernetes: p.ec2, ec2: p.kubernetes };
    expect(unchangedSince(swapped, p)).toBe(false);
  });
});

describe('swappedFrom', () => {
  it('recognises the expected records with only the weights set to the target', () => {
    const before = aliasPair(10, 90);
    const after = aliasPair(30, 70);
    expect(swappedFrom(after, before, { kubernetes: 30, ec2: 70 })).toBe(true);
    expect(swappedFrom(reversedKeys(after) as PairSnapshot, before, { kubernetes: 30, ec2: 70 })).toBe(true);
  });

  it('says no when the weights landed somewhere else', () => {
    expect(swappedFrom(aliasPair(40, 60), aliasPair(10, 90), { kubernetes: 30, ec2: 70 })).toBe(false);
    expect(swappedFrom(aliasPair(30, 90), aliasPair(10, 90), { kubernetes: 30, ec2: 70 })).toBe(false);
  });

  it('says no when the weights match but another field changed too', () => {
    const before = aliasPair(10, 90);
    const after = aliasPair(30, 70);
    const moved = withRecord(after, 'ec2', { ...after.ec2.record, AliasTarget: { HostedZoneId: 'Z1', DNSName: 'elsewhere.', EvaluateTargetHealth: false } });
    expect(swappedFrom(moved, before, { kubernetes: 30, ec2: 70 })).toBe(false);
  });

  it('says no for records still as expected, unless the target weights are the current ones', () => {
    const before = aliasPair(10, 90);
    expect(swappedFrom(before, before, { kubernetes: 30, ec2: 70 })).toBe(false);
    expect(swappedFrom(before, before, { kubernetes: 10, ec2: 90 })).toBe(true);
  });
});

describe('weightsOf', () => {
  it('reads the two weights of a pair', () => {
    expect(weightsOf(aliasPair(25, 75))).toEqual({ kubernetes: 25, ec2: 75 });
  });
});
