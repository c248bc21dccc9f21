/**
 * Least privilege, measured: deploy/'s Roles and ClusterRoles grant exactly the (API group,
 * resource, verb) triples the whole suite made the Kubernetes stand-in serve, and the IAM policy
 * allows exactly the Route 53 actions the Route 53 stand-in saw. A grant the code never uses is
 * a finding of a security review; a use the manifests do not grant is a bot that fails in a real
 * cluster. Run by scripts/test.sh after the suite (vitest.after-suite.config.ts).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readApiUse } from '../support/api-usage.js';

const used = readApiUse();
const usedBy = (api: 'kubernetes' | 'route53' | 'cloudwatch') =>
  [...used]
    .filter((u) => u.startsWith(`${api} `))
    .map((u) => u.slice(api.length + 1))
    .sort();

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

describe('least privilege', () => {
  it('the suite ran first (this file reads what it recorded)', () => {
    expect(usedBy('kubernetes').length, 'no Kubernetes use recorded: run the whole suite before this check').toBeGreaterThan(0);
    expect(usedBy('route53').length, 'no Route 53 use recorded: run the whole suite before this check').toBeGreaterThan(0);
  });

  it("deploy/rbac.yaml's Roles and ClusterRoles grant exactly what the code used", () => {
    const docs = parseAllDocuments(readFileSync('deploy/rbac.yaml', 'utf8')).map((d) => d.toJS() as { kind?: string; rules?: Rule[] });
    const roles = docs.filter((d) => d.kind === 'Role' || d.kind === 'ClusterRole');
    expect(roles.length).toBeGreaterThan(0);
    const granted = new Set<string>();
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs ?? []) granted.add(`${group}/${resource}/${verb}`);
      }
    }
    expect([...granted].filter((g) => g.includes('*')), 'wildcards grant more than anyone can review').toEqual([]);
    expect([...granted].sort()).toEqual(usedBy('kubernetes'));
  });

  it('deploy/iam-policy.json allows exactly the Route 53 actions the code used, and keeps its record-name conditions', () => {
    const policy = JSON.parse(readFileSync('deploy/iam-policy.json', 'utf8')) as {
      Statement: Array<{ Effect: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> }>;
    };
    const allowed = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => ([] as string[]).concat(s.Action));
    expect(allowed.filter((a) => a.includes('*'))).toEqual([]);
    expect(allowed.map((a) => a.replace(/^route53:/, '')).sort()).toEqual(usedBy('route53'));
    const change = policy.Statement.find((s) => ([] as string[]).concat(s.Action).includes('route53:ChangeResourceRecordSets'));
    const conditions = Object.values(change?.Condition ?? {}).flatMap((c) => Object.keys(c));
    expect(conditions).toEqual(
      expect.arrayContaining(['route53:ChangeResourceRecordSetsNormalizedRecordNames', 'route53:ChangeResourceRecordSetsRecordTypes', 'route53:ChangeResourceRecordSetsActions']),
    );
  });

  // Only bots with CloudWatch ramp gates need it, so it is a policy of its own to attach or not.
  it('deploy/iam-policy-cloudwatch.json allows exactly the CloudWatch actions the code used', () => {
    const policy = JSON.parse(readFileSync('deploy/iam-policy-cloudwatch.json', 'utf8')) as { Statement: Array<{ Effect: string; Action: string | string[] }> };
    const allowed = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => ([] as string[]).concat(s.Action));
    expect(allowed.filter((a) => a.includes('*'))).toEqual([]);
    expect(usedBy('cloudwatch').length, 'no CloudWatch use recorded: run the whole suite before this check').toBeGreaterThan(0);
    expect(allowed.map((a) => a.replace(/^cloudwatch:/, '')).sort()).toEqual(usedBy('cloudwatch'));
  });
});
