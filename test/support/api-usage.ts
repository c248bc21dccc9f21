/**
 * Which cloud API permissions the whole test suite used: the Kubernetes stand-in records each
 * (API group, resource, verb) it was asked for, the Route 53 and CloudWatch stand-ins each action, into files
 * under .tmp/api-usage/ (one per process, since test files run in several). After the suite,
 * test/after-suite/least-privilege.test.ts compares them with deploy/rbac.yaml and
 * deploy/iam-policy.json (and deploy/iam-policy-cloudwatch.json): what is granted must be exactly what was used.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../.tmp/api-usage/', import.meta.url));
const seen = new Set<string>();

export type ApiUse = `kubernetes ${string}` | `route53 ${string}` | `cloudwatch ${string}`;

export function recordApiUse(use: ApiUse): void {
  if (seen.has(use)) return;
  seen.add(use);
  mkdirSync(DIR, { recursive: true });
  appendFileSync(join(DIR, `${process.pid}.txt`), `${use}\n`);
}

/** Everything recorded since `clearApiUse()`, by every process. */
export function readApiUse(): Set<string> {
  let files: string[];
  try {
    files = readdirSync(DIR);
  } catch {
    return new Set();
  }
  return new Set(files.flatMap((f) => readFileSync(join(DIR, f), 'utf8').split('\n').filter(Boolean)));
}

export function clearApiUse(): void {
  rmSync(DIR, { recursive: true, force: true });
}
