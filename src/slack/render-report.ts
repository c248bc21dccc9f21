/** The text that goes with the progress report's chart: one line per service. Pure. */
import { type ShareSeries, summaryLine } from '../core/share-history.js';
import { escapeText } from './escape.js';

/** Slack cuts a file's initial comment well before a message's 40 000 characters; stay far below. */
const MAX_COMMENT = 3500;

export function reportTitle(now: number): string {
  return `Migration progress, ${new Date(now).toISOString().slice(0, 10)}`;
}

export function renderReportComment(series: readonly ShareSeries[], now: number, scheduled: boolean): string {
  const known = series.filter((s) => s.points.length > 0);
  const full = known.filter((s) => s.points[s.points.length - 1]!.percent === 100).length;
  const head = `*${reportTitle(now)}*${scheduled ? ' (scheduled)' : ''}: ${full} of ${series.length} service${series.length === 1 ? '' : 's'} fully on Kubernetes.`;
  const lines = [head];
  let used = head.length;
  for (let i = 0; i < series.length; i++) {
    const line = `• ${escapeText(summaryLine(series[i]!, now))}`;
    if (used + line.length + 1 > MAX_COMMENT) {
      lines.push(`…and ${series.length - i} more.`);
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  return lines.join('\n');
}
