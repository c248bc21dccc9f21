import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, parseConfigText } from '../../src/config/load-config.js';
import { ConfigInvalid } from '../../src/core/errors.js';

const MINIMAL = `
slack:
  approvers: [U0ALICE, S0PLATFORM]
services:
  api:
    route53:
      hostedZoneId: Z0123456789ABC
      recordName: api.example.com
      kubernetesSetIdentifier: api-kubernetes
      ec2SetIdentifier: api-ec2
`;

const FULL = `
slack:
  approvalChannel: C0APPROVALS
  alertChannel: C0ALERTS
  approvers: [S0PLATFORM, U0ALICE]
  requesters: [U0BOB, W0CAROL]
  approvalTimeoutMinutes: 15
  allowSelfApproval: true
  allowSelfApprovalOfRollback: false
services:
  api:
    route53:
      hostedZoneId: /hostedzone/Z0123456789ABC
      recordName: api.example.com
      recordType: AAAA
      kubernetesSetIdentifier: api-kubernetes
      ec2SetIdentifier: api-ec2
    maxStep: 10
    version:
      kubernetes:
        deployment: { namespace: api, name: api, container: api }
      ec2:
        url: https://api-ec2.internal.example.com/version
        field: build.sha
  web:
    route53:
      hostedZoneId: Z0123456789ABC
      recordName: www.example.com
      recordType: CNAME
      kubernetesSetIdentifier: www-kubernetes
      ec2SetIdentifier: www-ec2
memcache:
  servers: [memcached-1:11211, memcached-2:11211]
cronjobs:
  nightly-report:
    kubernetes: { namespace: jobs, name: nightly-report }
    lockKey: lock:nightly-report
drift:
  intervalSeconds: 30
`;

const noEnv = {};

function problemsOf(text: string, env: NodeJS.ProcessEnv = noEnv): readonly string[] {
  try {
    parseConfigText(text, 'strangler.yml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigInvalid);
    return (err as ConfigInvalid).problems;
  }
  throw new Error('expected the config to be refused');
}

/** Edits one line of MINIMAL; fails loudly if the line is not there, so a test can't pass by editing nothing. */
function edit(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

describe('parseConfigText: valid files', () => {
  it('fills every default in a minimal file', () => {
    const c = parseConfigText(MINIMAL, 'strangler.yml', noEnv);
    expect(c.slack).toEqual({
      approvers: ['U0ALICE', 'S0PLATFORM'],
      requesters: [],
      approvalTimeoutMinutes: 30,
      allowSelfApproval: false,
      allowSelfApprovalOfRollback: true,
    });
    expect(c.services.api).toEqual({
      route53: {
        hostedZoneId: 'Z0123456789ABC',
        recordName: 'api.example.com',
        recordType: 'A',
        kubernetesSetIdentifier: 'api-kubernetes',
        ec2SetIdentifier: 'api-ec2',
      },
      maxStep: 25,
    });
    expect(c.cronjobs).toEqual({});
    expect(c.memcache).toBeUndefined();
    expect(c.drift).toEqual({ intervalSeconds: 60, graceSeconds: 600, remindEveryMinutes: 240 });
  });

  it('keeps every value a full file sets and fills only what it leaves out', () => {
    const c = parseConfigText(FULL, 'strangler.yml', noEnv);
    expect(c.slack).toEqual({
      approvalChannel: 'C0APPROVALS',
      alertChannel: 'C0ALERTS',
      approvers: ['S0PLATFORM', 'U0ALICE'],
      requesters: ['U0BOB', 'W0CAROL'],
      approvalTimeoutMinutes: 15,
      allowSelfApproval: true,
      allowSelfApprovalOfRollback: false,
    });
    expect(Object.keys(c.services)).toEqual(['api', 'web']);
    expect(c.services.api?.maxStep).toBe(10);
    expect(c.services.api?.route53.recordType).toBe('AAAA');
    expect(c.services.api?.route53.hostedZoneId).toBe('/hostedzone/Z0123456789ABC');
    expect(c.services.api?.version).toEqual({
      kubernetes: { deployment: { namespace: 'api', name: 'api', container: 'api' } },
      ec2: { url: 'https://api-ec2.internal.example.com/version', field: 'build.sha' },
    });
    expect(c.services.web?.maxStep).toBe(25);
    expect(c.services.web?.route53.recordType).toBe('CNAME');
    expect(c.services.web?.version).toBeUndefined();
    expect(c.memcache).toEqual({ servers: ['memcached-1:11211', 'memcached-2:11211'] });
    expect(c.cronjobs).toEqual({ 'nightly-report': { kubernetes: { namespace: 'jobs', name: 'nightly-report' }, lockKey: 'lock:nightly-report' } });
    // A partly written drift block still gets the defaults of the fields it leaves out.
    expect(c.drift).toEqual({ intervalSeconds: 30, graceSeconds: 600, remindEveryMinutes: 240 });
  });
});

describe('parseConfigText: every problem names its field', () => {
  it('a missing hosted zone id is reported as exactly that field, required', () => {
    const text = edit(MINIMAL, '      hostedZoneId: Z0123456789ABC\n', '');
    expect(problemsOf(text)).toEqual(['services.api.route53.hostedZoneId: required']);
  });

  it('a missing slack section is required at the top level', () => {
    expect(problemsOf('services: {}\n')).toEqual(['slack: required']);
  });

  it('an empty file needs at least the slack section', () => {
    expect(problemsOf('')).toEqual(['slack: required']);
  });

  it('an unknown top-level field is named', () => {
    expect(problemsOf(`${MINIMAL}colour: blue\n`)).toEqual(['colour: unknown field']);
  });

  it('an unknown nested field is named with its path, catching typos of optional settings', () => {
    const text = edit(MINIMAL, '  approvers:', '  allowSelfAproval: true\n  approvers:');
    expect(problemsOf(text)).toEqual(['slack.allowSelfAproval: unknown field']);
  });

  it('a record type other than A, AAAA or CNAME is refused on that field', () => {
    const text = edit(MINIMAL, '      recordName: api.example.com\n', '      recordName: api.example.com\n      recordType: MX\n');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^services\.api\.route53\.recordType: /);
    expect(problems[0]).toContain('"CNAME"');
  });

  it('the same set identifier on both sides is refused', () => {
    const text = edit(MINIMAL, 'ec2SetIdentifier: api-ec2', 'ec2SetIdentifier: api-kubernetes');
    expect(problemsOf(text)).toEqual(['services.api.route53: kubernetesSetIdentifier and ec2SetIdentifier must differ']);
  });

  it('an empty approvers list is refused: nobody could ever approve', () => {
    const text = edit(MINIMAL, '[U0ALICE, S0PLATFORM]', '[]');
    expect(problemsOf(text)).toEqual(['slack.approvers: list at least one approver']);
  });

  it('an approver that is not a Slack id names the list entry', () => {
    const text = edit(MINIMAL, '[U0ALICE, S0PLATFORM]', '[U0ALICE, "@alice"]');
    expect(problemsOf(text)).toEqual(['slack.approvers.1: must be a Slack user or user group id (U…, W…, S…)']);
  });

  it('a hosted zone id that is not one says what one looks like', () => {
    const text = edit(MINIMAL, 'hostedZoneId: Z0123456789ABC', 'hostedZoneId: example.com');
    expect(problemsOf(text)).toEqual(['services.api.route53.hostedZoneId: must be a hosted zone id such as Z0123456789ABC (upper-case letters and digits)']);
  });

  it('lists every problem in one run, cross-field ones included, even when other fields are wrong', () => {
    // A missing section and a value of the wrong type make zod skip cross-field rules unless told
    // not to: they would then show up only on the next run, after the first fixes.
    const text = `
services:
  api:
    route53:
      hostedZoneId: example.com
      recordName: api.example.com
      kubernetesSetIdentifier: same
      ec2SetIdentifier: same
    maxStep: ten
    version:
      kubernetes: { url: https://k8s.example.com/version }
      ec2: { url: https://ec2.example.com/version }
cronjobs:
  nightly:
    kubernetes: { namespace: jobs, name: nightly }
    lockKey: lock:nightly
`;
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        'slack: required',
        'services.api.route53.hostedZoneId: must be a hosted zone id such as Z0123456789ABC (upper-case letters and digits)',
        'services.api.route53: kubernetesSetIdentifier and ec2SetIdentifier must differ',
        'slack.alertChannel: required when services have version sources (drift alerts go there)',
        'memcache.servers: required when cronjobs are configured',
      ]),
    );
    expect(problems.some((p) => p.startsWith('services.api.maxStep: '))).toBe(true);
    expect(problems).toHaveLength(6);
  });

  it('a cross-field rule does not fire on what is merely absent or malformed elsewhere', () => {
    // Set identifiers both missing: "required" twice, not "must differ".
    const text = edit(edit(MINIMAL, '      kubernetesSetIdentifier: api-kubernetes\n', ''), '      ec2SetIdentifier: api-ec2\n', '');
    expect(problemsOf(text)).toEqual(['services.api.route53.kubernetesSetIdentifier: required', 'services.api.route53.ec2SetIdentifier: required']);
    expect(problemsOf(`${MINIMAL}cronjobs: 7\n`)).toHaveLength(1);
  });

  it('accepts the hosted zone ids AWS-compatible endpoints issue, which need not start with Z', () => {
    for (const id of ['6AR1QNWR968XT37ISJNAF0', '/hostedzone/6AR1QNWR968XT37ISJNAF0', 'Z0123456789ABC']) {
      const c = parseConfigText(edit(MINIMAL, 'hostedZoneId: Z0123456789ABC', `hostedZoneId: ${id}`), 'strangler.yml', noEnv);
      expect(c.services.api?.route53.hostedZoneId).toBe(id);
    }
    expect(problemsOf(edit(MINIMAL, 'hostedZoneId: Z0123456789ABC', 'hostedZoneId: z0123abc'))).toHaveLength(1);
  });

  it('a maxStep outside 1..100 is refused on that field', () => {
    const problems = problemsOf(`${MINIMAL}    maxStep: 0\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^services\.api\.maxStep: /);
  });

  it('a value of the wrong type is not reported as missing', () => {
    const problems = problemsOf(edit(MINIMAL, 'hostedZoneId: Z0123456789ABC', 'hostedZoneId: 42'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^services\.api\.route53\.hostedZoneId: /);
    expect(problems[0]).not.toContain('required');
  });

  it('cron jobs without memcache need memcache servers', () => {
    const text = `${MINIMAL}cronjobs:\n  nightly:\n    kubernetes: { namespace: jobs, name: nightly }\n    lockKey: lock:nightly\n`;
    expect(problemsOf(text)).toEqual(['memcache.servers: required when cronjobs are configured']);
  });

  it('independent problems in different sections are all listed at once', () => {
    let text = edit(MINIMAL, '[U0ALICE, S0PLATFORM]', '[]');
    text = edit(text, '      hostedZoneId: Z0123456789ABC\n', '');
    expect([...problemsOf(text)].sort()).toEqual(['services.api.route53.hostedZoneId: required', 'slack.approvers: list at least one approver']);
  });

  it('the error message names the file and lists each problem on its own line', () => {
    try {
      parseConfigText(edit(MINIMAL, '[U0ALICE, S0PLATFORM]', '[]'), '/etc/strangler/strangler.yml', noEnv);
      throw new Error('expected a refusal');
    } catch (err) {
      expect((err as ConfigInvalid).code).toBe('CONFIG_INVALID');
      expect((err as Error).message).toBe('/etc/strangler/strangler.yml is not valid:\n  - slack.approvers: list at least one approver');
    }
  });

  it('a YAML syntax error is reported as such, with its position, and without a stack trace', () => {
    const problems = problemsOf('slack:\n  approvers: [U0ALICE\nservices: {}\n');
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p).toMatch(/^YAML: /);
      expect(p).not.toContain('\n');
    }
    expect(problems.join(' ')).toMatch(/line \d+/);
  });

  it('a duplicated key is a YAML error rather than a silent override', () => {
    const problems = problemsOf(`${MINIMAL}slack:\n  approvers: [U0BOB]\n`);
    expect(problems[0]).toMatch(/^YAML: /);
  });
});

describe('MEMCACHE_SERVERS', () => {
  const withCron = `${MINIMAL}cronjobs:\n  nightly:\n    kubernetes: { namespace: jobs, name: nightly }\n    lockKey: lock:nightly\n`;

  it('supplies the servers cron jobs need, split on commas with blanks dropped', () => {
    const c = parseConfigText(withCron, 'strangler.yml', { MEMCACHE_SERVERS: ' a:11211, b:11211 ,,' });
    expect(c.memcache).toEqual({ servers: ['a:11211', 'b:11211'] });
  });

  it('replaces the servers listed in the file', () => {
    const c = parseConfigText(FULL, 'strangler.yml', { MEMCACHE_SERVERS: 'override:11211' });
    expect(c.memcache).toEqual({ servers: ['override:11211'] });
  });

  it('is ignored when empty', () => {
    const c = parseConfigText(FULL, 'strangler.yml', { MEMCACHE_SERVERS: '' });
    expect(c.memcache).toEqual({ servers: ['memcached-1:11211', 'memcached-2:11211'] });
  });

  it('made only of commas still leaves memcache without servers, which is refused', () => {
    expect(problemsOf(withCron, { MEMCACHE_SERVERS: ',,' })).toEqual([expect.stringMatching(/^memcache\.servers: /)]);
  });

  it('does not mutate the parsed object it is applied to', () => {
    const raw = { slack: { approvers: ['U0ALICE'] }, memcache: { servers: ['file:11211'] } };
    parseConfig(raw, 'raw', { MEMCACHE_SERVERS: 'env:11211' });
    expect(raw.memcache.servers).toEqual(['file:11211']);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strangler-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and validates a file', async () => {
    const path = join(dir, 'strangler.yml');
    writeFileSync(path, MINIMAL);
    const c = await loadConfig(path, noEnv);
    expect(Object.keys(c.services)).toEqual(['api']);
  });

  it('a missing file says how to fix it', async () => {
    const path = join(dir, 'nope.yml');
    const err = await loadConfig(path, noEnv).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigInvalid);
    expect((err as ConfigInvalid).problems).toEqual([`file not found: copy strangler.example.yml to ${path} or set STRANGLER_CONFIG`]);
  });

  it('a path that cannot be read as a file gives the system error code', async () => {
    const err = await loadConfig(dir, noEnv).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigInvalid);
    expect((err as ConfigInvalid).problems).toEqual(['cannot read the file (EISDIR)']);
  });

  it('reports the problems of a file under its path', async () => {
    const path = join(dir, 'bad.yml');
    writeFileSync(path, edit(MINIMAL, '[U0ALICE, S0PLATFORM]', '[]'));
    await expect(loadConfig(path, noEnv)).rejects.toThrow(`${path} is not valid:\n  - slack.approvers: list at least one approver`);
  });
});

describe('report: the scheduled progress report', () => {
  const withReport = (lines: string) => `${MINIMAL}report:\n${lines}`;

  it('a channel and a cron, with an optional time zone', () => {
    const c = parseConfigText(withReport('  channel: C0REPORTS\n  cron: "0 9 * * MON"\n  timezone: Europe/Paris\n'), 'strangler.yml', noEnv);
    expect(c.report).toEqual({ channel: 'C0REPORTS', cron: '0 9 * * MON', timezone: 'Europe/Paris' });
    expect(parseConfigText(MINIMAL, 'strangler.yml', noEnv).report).toBeUndefined();
  });

  it.each(['0 9 * * FUNDAY', '61 9 * * MON', '0 9', 'every monday'])('a bad cron %j is refused naming the field', (cron) => {
    expect(problemsOf(withReport(`  channel: C0REPORTS\n  cron: "${cron}"\n`))).toEqual(['report.cron: must be a cron expression such as "0 9 * * MON" (minute hour day-of-month month day-of-week)']);
  });

  it('an unknown time zone and a channel that is not one are named', () => {
    expect(problemsOf(withReport('  channel: reports\n  cron: "0 9 * * MON"\n  timezone: Mars/Olympus\n'))).toEqual([
      expect.stringMatching(/^report\.channel: must be a Slack channel id/),
      'report.timezone: must be an IANA time zone such as Europe/Paris',
    ]);
  });
});
