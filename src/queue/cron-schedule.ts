/** When a CronJob runs next, from its schedule and time zone, as the Kubernetes controller computes it. */
import { CronExpressionParser } from 'cron-parser';

export function nextRunAfter(schedule: string, timeZone: string | null, after: Date): Date | null {
  // Kubernetes accepts the @hourly family and a leading CRON_TZ/TZ; cron-parser knows the macros.
  const expr = schedule.replace(/^(CRON_)?TZ=(\S+)\s+/, '');
  const tz = timeZone ?? /^(?:CRON_)?TZ=(\S+)/.exec(schedule)?.[1] ?? 'UTC';
  try {
    return CronExpressionParser.parse(expr, { currentDate: after, tz }).next().toDate();
  } catch {
    return null;
  }
}
