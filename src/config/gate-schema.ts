/**
 * A ramp gate in strangler.yml: one metric from Prometheus or CloudWatch held against a min
 * and/or max. Produces the Gate type of src/core/gate.ts; the ramp's own schema lists these
 * under `services.<name>.ramp.gates`.
 */
import { z } from 'zod';
import { type Gate, READINGS_KEPT_PER_GATE } from '../core/gate.js';

const CLOUDWATCH_STATS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'];
// CloudWatch's extended statistics: percentiles (p99, p99.9), trimmed means and the like (tm90,
// tc90, ts90, wm90, PR(10:50), TM(10%:90%), …). Only the percentile form is checked closely;
// the rest are passed to CloudWatch, which answers with its own error text if it disagrees.
const PERCENTILE = /^p(\d{1,2}(\.\d{1,10})?|100)$/;
const EXTENDED = /^(tm|tc|ts|wm|iqm|TM|TC|TS|WM|PR)[\d(.:%)]*$/;

function hasUserinfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

const prometheusSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be the http(s) URL of a Prometheus server, e.g. http://prometheus.monitoring:9090' })
      // A URL's user and password would travel with every error text about it, into Slack and the
      // log (Node's fetch even refuses such a URL, quoting it whole); the value is never echoed here.
      .refine((u) => !hasUserinfo(u), {
        message:
          'must not carry a user or password (user:password@host): strangler shows gate errors in Slack and the log. ' +
          'Give a URL that needs no credentials, e.g. Prometheus inside the cluster or an authenticating proxy in front of it',
      }),
    query: z.string().trim().min(1, 'must be a PromQL expression'),
  })
  .strict();

const cloudwatchSchema = z
  .object({
    namespace: z.string().min(1, 'must be a CloudWatch namespace such as AWS/ApplicationELB').max(255),
    metric: z.string().min(1, 'must be a CloudWatch metric name such as TargetResponseTime').max(255),
    dimensions: z.record(z.string().min(1).max(255), z.string().min(1).max(1024)).default({}),
    stat: z
      .string()
      .refine((s) => CLOUDWATCH_STATS.includes(s) || PERCENTILE.test(s) || EXTENDED.test(s), {
        message: `must be a CloudWatch statistic: ${CLOUDWATCH_STATS.join(', ')}, or a percentile such as p99`,
      })
      .default('Average'),
    /** CloudWatch keeps 1-minute data for 15 days; high-resolution metrics allow 1, 5, 10 and 30. */
    periodSeconds: z
      .number()
      .int()
      .positive()
      .refine((p) => [1, 5, 10, 30].includes(p) || p % 60 === 0, { message: 'must be 1, 5, 10, 30 or a multiple of 60 (CloudWatch periods)' })
      .default(60),
    /** Absent: the bot's own region (AWS_REGION and the standard chain). */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')
      .optional(),
  })
  .strict();

const gateObject = z
  .object({
    name: z.string().trim().min(1, 'every gate needs a name (it is shown in Slack)').max(80),
    prometheus: prometheusSchema.optional(),
    cloudwatch: cloudwatchSchema.optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    failureLimit: z
      .number()
      .int()
      .min(1)
      .max(READINGS_KEPT_PER_GATE, `must be at most ${READINGS_KEPT_PER_GATE}: a bake keeps only the newest ${READINGS_KEPT_PER_GATE} readings of a gate, so a longer run of violations could never be counted and the gate could never breach`)
      .default(2),
  })
  .strict();

function label(g: { name?: unknown }): string {
  return typeof g.name === 'string' && g.name.trim() !== '' ? `gate "${g.name.trim()}"` : 'this gate';
}

// The rules across fields run even when other fields are wrong (`when`; zod skips them by
// default), so one run lists every problem; they see the value possibly half invalid, hence the
// careful reads instead of the schema's types.
export const gateSchema = gateObject
  .superRefine(
    (raw, ctx) => {
      const g = raw as Record<string, unknown>;
      const sources = [g.prometheus, g.cloudwatch].filter((s) => s !== undefined).length;
      if (sources !== 1) {
        ctx.addIssue({
          code: 'custom',
          message: `${label(g)} must have exactly one metric source, \`prometheus\` or \`cloudwatch\`, ${sources === 0 ? 'and has neither' : 'not both'}`,
        });
      }
      if (g.min === undefined && g.max === undefined) {
        ctx.addIssue({ code: 'custom', message: `${label(g)} has neither \`min\` nor \`max\`: give at least one bound, or it watches nothing` });
      }
      if (typeof g.min === 'number' && typeof g.max === 'number' && g.min > g.max) {
        ctx.addIssue({ code: 'custom', path: ['min'], message: `${label(g)} has min ${g.min} above max ${g.max}: no reading could pass` });
      }
    },
    { when: () => true },
  )
  .transform((g): Gate => {
    const common = { name: g.name, failureLimit: g.failureLimit, ...(g.min === undefined ? {} : { min: g.min }), ...(g.max === undefined ? {} : { max: g.max }) };
    return g.prometheus ? { ...common, prometheus: g.prometheus } : { ...common, cloudwatch: g.cloudwatch! };
  });

export const gatesSchema = z.array(gateSchema).superRefine((gates, ctx) => {
  const seen = new Set<string>();
  gates.forEach((g, i) => {
    if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `two gates are called "${g.name}"; names must differ (they label readings)` });
    seen.add(g.name);
  });
});

export type GateConfig = z.input<typeof gateSchema>;
