/**
 * The progress report: a chart of each service's Kubernetes share over time, drawn from the request
 * history, posted with a one-line summary per service. Uploaded with Slack's external flow
 * (files.getUploadURLExternal, a POST of the bytes, files.completeUploadExternal) through
 * WebClient.filesUploadV2: Web API calls only, so it works the same in HTTP and Socket Mode.
 */
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema.js';
import { SlackFailed, StranglerError } from '../core/errors.js';
import { weightsOf } from '../core/pair-snapshot.js';
import type { Clock, WeightedPair } from '../core/ports.js';
import { type ShareSeries, shareSeries } from '../core/share-history.js';
import { splitFromWeights } from '../core/split.js';
import type { Logger } from '../log.js';
import type { RequestStore } from '../store/request-store.js';
import { type SlackMessage, plain } from './blocks.js';
import { slackErrorCode } from './notifier.js';
import { renderReportComment, reportTitle } from './render-report.js';

export type ChartRenderer = (series: readonly ShareSeries[], opts: { title: string }) => Promise<{ png: Buffer; width: number; height: number }>;

export interface ProgressReportDeps {
  readonly config: Config;
  readonly store: RequestStore;
  readonly pairs: WeightedPair;
  readonly client: WebClient;
  readonly clock: Clock;
  readonly log: Logger;
  /** Loaded only when a report is made (src/adapters/share-chart.ts). */
  readonly chart: ChartRenderer;
}

/** As much history as the store keeps (request-store.ts HISTORY_KEEP). */
const HISTORY = 1000;
const LIVE_TIMEOUT_MS = 5000;

export class ProgressReport {
  constructor(private readonly deps: ProgressReportDeps) {}

  /** Each service's live share, where Route 53 answers in time: where the lines end. */
  private async live(): Promise<Map<string, number>> {
    const { config, pairs } = this.deps;
    const names = Object.keys(config.services);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), LIVE_TIMEOUT_MS)));
    const read = await Promise.race([pairs.readMany(names.map((n) => config.services[n]!.route53)).catch(() => undefined), late]).finally(() => clearTimeout(timer));
    const out = new Map<string, number>();
    read?.forEach((p, i) => {
      if (!(p instanceof Error)) out.set(names[i]!, splitFromWeights(weightsOf(p)).kubernetesPercent);
    });
    return out;
  }

  /** Makes the report and posts it in `channel`; throws a StranglerError a person can read. */
  async post(channel: string, opts: { scheduled?: boolean } = {}): Promise<{ series: readonly ShareSeries[] }> {
    const { config, store, client, clock } = this.deps;
    const now = clock.now();
    const [history, current] = await Promise.all([store.history(HISTORY), this.live()]);
    const series = shareSeries(history, Object.keys(config.services), now, current);
    const title = reportTitle(now);
    const { png } = await this.deps.chart(series, { title: 'Kubernetes share of traffic per service' });
    try {
      await client.filesUploadV2({
        channel_id: channel,
        file: png,
        filename: `strangler-progress-${new Date(now).toISOString().slice(0, 10)}.png`,
        title,
        alt_text: 'Line chart of each service’s Kubernetes share of traffic over time',
        initial_comment: renderReportComment(series, now, opts.scheduled ?? false),
      });
    } catch (err) {
      const code = slackErrorCode(err);
      const hint = code === 'not_in_channel' || code === 'channel_not_found' ? 'Invite the bot to the channel (`/invite @strangler`) and try again.' : 'Try again in a minute.';
      throw new SlackFailed(`Slack refused the report's upload (${code}).`, hint);
    }
    return { series };
  }

  /** `/strangle report`: posted where it was asked for, answered privately. */
  async onDemand(channel: string): Promise<SlackMessage> {
    try {
      const { series } = await this.post(channel);
      return plain(`Posted the progress report of ${series.length} service${series.length === 1 ? '' : 's'} in <#${channel}>.`);
    } catch (err) {
      if (err instanceof StranglerError) return plain(`:warning: ${err.message}${err.hint ? ` ${err.hint}` : ''} Nothing was changed.`);
      this.deps.log.error({ err: (err as Error)?.stack ?? String(err) }, 'report failed');
      return plain(':warning: The progress report could not be made (see the bot logs). Nothing was changed.');
    }
  }
}
