/**
 * The strangler.yml schema: one typed source of truth with defaults. The README's configuration
 * reference follows this file; keep the two together.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { rampSchema } from './ramp-schema.js';

const slackId = (prefixes: string, what: string) =>
  z.string().regex(new RegExp(`^[${prefixes}][A-Z0-9]{2,}$`), `must be a Slack ${what} id (${prefixes.split('').join('…, ')}…)`);

const userOrGroup = slackId('UWS', 'user or user group');
const channel = slackId('CGD', 'channel');
const dnsName = z.string().min(1).regex(/^[A-Za-z0-9*_.-]+$/, 'must be a DNS name like api.example.com');
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name');

const kubeRef = z.object({ namespace: k8sName, name: k8sName }).strict();

/** Where one platform's running version is read from. */
const versionSource = z.union([
  z.object({ deployment: kubeRef.extend({ container: z.string().min(1).optional() }).strict() }).strict(),
  z
    .object({
      url: z.url({ protocol: /^https?$/ }),
      /** Dot path into a JSON body (`commit`, `build.sha`); absent: the whole body, trimmed. */
      field: z.string().min(1).optional(),
    })
    .strict(),
]);

export const serviceSchema = z
  .object({
    route53: z
      .object({
        // Route 53's ids start with Z, but AWS does not promise it and AWS-compatible endpoints
        // do not (LocalStack and moto issue ids like 6AR1QNWR968XT37ISJNAF0).
        hostedZoneId: z
          .string()
          .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'must be a hosted zone id such as Z0123456789ABC (upper-case letters and digits)'),
        recordName: dnsName,
        recordType: z.enum(['A', 'AAAA', 'CNAME']).default('A'),
        kubernetesSetIdentifier: z.string().min(1),
        ec2SetIdentifier: z.string().min(1),
      })
      .strict()
      .refine((r) => !(field(r, 'kubernetesSetIdentifier') !== undefined && field(r, 'kubernetesSetIdentifier') === field(r, 'ec2SetIdentifier')), {
        message: 'kubernetesSetIdentifier and ec2SetIdentifier must differ',
        when: always,
      }),
    /** Largest change of the Kubernetes share (in points) one request may make; rollbacks are exempt. */
    maxStep: z.number().int().min(1).max(100).default(25),
    version: z.object({ kubernetes: versionSource, ec2: versionSource }).strict().optional(),
    /** The plan `/strangle <service> ramp` runs (ramp-schema.ts). */
    ramp: rampSchema.optional(),
  })
  .strict();

export const cronJobSchema = z
  .object({
    kubernetes: kubeRef,
    /** The memcache key both cron.d and the CronJob add before running; its value names the holder. */
    lockKey: z.string().min(1).max(250),
  })
  .strict();


const RESERVED = ['help', 'status', 'history', 'cancel', 'cron', 'drift', 'rollback', 'report', 'ramp'];
const nameKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'names are letters, digits, - and _')
  .refine((n) => !RESERVED.includes(n.toLowerCase()), { message: `names cannot be a /strangle subcommand (${RESERVED.join(', ')})` });

/** Five fields (minute hour day-of-month month day-of-week), six with seconds first, or a macro such as @weekly. */
function validCron(expr: string): boolean {
  const fields = expr.trim().split(/\s+/).length;
  if (!expr.trim().startsWith('@') && fields !== 5 && fields !== 6) return false;
  try {
    CronExpressionParser.parse(expr);
    return true;
  } catch {
    return false;
  }
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The progress report posted on a schedule (src/slack/progress-report.ts). */
export const reportSchema = z
  .object({
    /** Where the scheduled report is posted; the bot must be in it. */
    channel,
    /** When, as cron: `0 9 * * MON` is Mondays at 09:00. */
    cron: z.string().refine(validCron, { message: 'must be a cron expression such as "0 9 * * MON" (minute hour day-of-month month day-of-week)' }),
    /** IANA time zone the cron is read in; default UTC. */
    timezone: z.string().refine(validTimeZone, { message: 'must be an IANA time zone such as Europe/Paris' }).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    slack: z
      .object({
        /** Where approval requests go; absent: the channel the command came from. */
        approvalChannel: channel.optional(),
        /** Where drift alerts go. */
        alertChannel: channel.optional(),
        approvers: z.array(userOrGroup).min(1, 'list at least one approver'),
        /** Who may request; empty: anyone. */
        requesters: z.array(userOrGroup).default([]),
        approvalTimeoutMinutes: z.number().positive().max(24 * 60).default(30),
        allowSelfApproval: z.boolean().default(false),
        allowSelfApprovalOfRollback: z.boolean().default(true),
      })
      .strict(),
    services: z.record(nameKey, serviceSchema).default({}),
    memcache: z.object({ servers: z.array(z.string().min(1)).min(1) }).strict().optional(),
    cronjobs: z.record(nameKey, cronJobSchema).default({}),
    drift: z
      .object({
        intervalSeconds: z.number().int().min(5).default(60),
        graceSeconds: z.number().int().min(0).default(600),
        remindEveryMinutes: z.number().int().min(1).default(240),
      })
      .strict()
      .default({ intervalSeconds: 60, graceSeconds: 600, remindEveryMinutes: 240 }),
    report: reportSchema.optional(),
  })
  .strict()
  .refine((c) => !(entries(field(c, 'services')).some((s) => field(s, 'version') !== undefined) && field(field(c, 'slack'), 'alertChannel') === undefined), {
    path: ['slack', 'alertChannel'],
    message: 'required when services have version sources (drift alerts go there)',
    when: always,
  })
  .refine((c) => !(entries(field(c, 'cronjobs')).length > 0 && field(c, 'memcache') === undefined), {
    path: ['memcache', 'servers'],
    message: 'required when cronjobs are configured',
    when: always,
  });

// Cross-field rules run even when other fields are wrong (`when: always`; zod skips them by
// default), so one run lists every problem. They see the value as it is then, possibly half
// invalid, hence these careful readers instead of the schema's types.
function always(): boolean {
  return true;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function entries(value: unknown): unknown[] {
  return typeof value === 'object' && value !== null ? Object.values(value) : [];
}

export type Config = z.infer<typeof configSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type CronJobConfig = z.infer<typeof cronJobSchema>;
export type ReportConfig = z.infer<typeof reportSchema>;
export type VersionSourceConfig = z.infer<typeof versionSource>;
