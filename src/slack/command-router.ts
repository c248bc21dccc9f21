/**
 * Answers a parsed `/strangle` command with the private message the user sees. Errors meant for
 * people (StranglerError) become that message; anything else is logged and answered generically,
 * so no stack trace ever reaches Slack.
 */
import type { Config } from '../config/schema.js';
import { cronKey, serviceKey } from '../core/change-request.js';
import type { Command } from '../core/command.js';
import { StranglerError, Unreachable } from '../core/errors.js';
import type { WeightedPair } from '../core/ports.js';
import type { Logger } from '../log.js';
import { isRedisDown } from '../redis-connection.js';
import type { RequestStore } from '../store/request-store.js';
import { type SlackMessage, plain } from './blocks.js';
import type { Notifier } from './notifier.js';
import { renderError } from './render-error.js';
import { renderHelp } from './render-help.js';
import { renderHistory } from './render-history.js';
import { renderRequestAck } from './render-request.js';
import { renderStatus, type ServiceStatus } from './render-status.js';
import type { Origin, RequestDesk } from './request-desk.js';

/** Optional features (cron moves, drift) plug their commands and status lines in here. */
export interface CommandExtensions {
  cronList?: () => Promise<SlackMessage>;
  drift?: () => Promise<SlackMessage>;
  /** Lines to add under a service in `/strangle status`, e.g. versions. */
  serviceExtras?: (services: readonly string[]) => Promise<ReadonlyMap<string, readonly string[]>>;
  /** Texts to add after the services in `/strangle status`, e.g. one per cron job. */
  statusTexts?: (target?: string) => Promise<readonly string[]>;
  /** `/strangle report`: posts the progress report in the origin's channel; the private answer. */
  report?: (origin: Origin) => Promise<SlackMessage>;
}

export interface RouterDeps {
  readonly config: Config;
  readonly store: RequestStore;
  readonly pairs: WeightedPair;
  readonly desk: RequestDesk;
  readonly notifier: Notifier;
  readonly log: Logger;
  readonly extensions?: CommandExtensions;
}

/** Errors from the Redis client mean the bot's own state is out of reach: say so plainly. */
export function asUserError(err: unknown): unknown {
  if (err instanceof StranglerError) return err;
  if (isRedisDown(err)) {
    return new Unreachable('The bot cannot reach its Redis store right now, so nothing was recorded or changed.', err);
  }
  return err;
}

export class CommandRouter {
  /** `status` answers being worked out, by target ('' for all): people asking meanwhile share them. */
  private readonly statusInFlight = new Map<string, Promise<SlackMessage>>();

  constructor(private readonly deps: RouterDeps) {}

  get serviceNames(): string[] {
    return Object.keys(this.deps.config.services);
  }

  get cronJobNames(): string[] {
    return Object.keys(this.deps.config.cronjobs);
  }

  async answer(cmd: Command, origin: Origin): Promise<SlackMessage> {
    try {
      return await this.route(cmd, origin);
    } catch (raw) {
      const err = asUserError(raw);
      if (!(err instanceof StranglerError)) this.deps.log.error({ err: (raw as Error)?.stack, command: cmd.kind }, 'command failed');
      return renderError(err);
    }
  }

  private async route(cmd: Command, origin: Origin): Promise<SlackMessage> {
    const { desk, config } = this.deps;
    const approvalChannel = config.slack.approvalChannel ?? origin.channel;
    switch (cmd.kind) {
      case 'help':
        return renderHelp(this.serviceNames, this.cronJobNames);
      case 'status':
        return this.status(cmd.target);
      case 'history': {
        const target = cmd.target === undefined ? undefined : this.serviceNames.includes(cmd.target) ? serviceKey(cmd.target) : cronKey(cmd.target);
        return renderHistory(await this.deps.store.history(10, target), cmd.target);
      }
      case 'cancel': {
        const r = await desk.cancel(cmd.requestId, origin.user);
        await this.deps.notifier.showRequest(r);
        return plain(`Request #${r.id} withdrawn; nothing changed.`);
      }
      case 'weight':
        return renderRequestAck(await desk.requestWeight(cmd.service, cmd.percent, cmd.reason, origin), approvalChannel);
      case 'rollback':
        return renderRequestAck(await desk.requestRollbackOfLatest(cmd.service, cmd.reason, origin), approvalChannel);
      case 'ramp':
        return renderRequestAck(await desk.requestRamp(cmd.service, { ...(cmd.steps ? { steps: cmd.steps } : {}), ...(cmd.bake !== undefined ? { bake: cmd.bake } : {}) }, cmd.reason, origin), approvalChannel);
      case 'cron-move':
        return renderRequestAck(await desk.requestCronMove(cmd.job, cmd.to, cmd.reason, origin), approvalChannel);
      case 'cron-list':
        return this.optional(this.deps.extensions?.cronList, 'Cron moves are not set up: add `cronjobs:` and `memcache:` to strangler.yml.');
      case 'drift':
        return this.optional(this.deps.extensions?.drift, 'Drift checks are not set up: add `version:` sources to services in strangler.yml.');
      case 'report': {
        const report = this.deps.extensions?.report;
        return report ? report(origin) : plain('The progress report is not available on this bot.');
      }
    }
  }

  private async optional(fn: (() => Promise<SlackMessage>) | undefined, missing: string): Promise<SlackMessage> {
    return fn ? fn() : plain(missing);
  }

  /**
   * Several people asking for the same status at once get one answer, at the cost of one read of
   * Route 53 and Redis. It is shared only while in flight: someone who joins may see it as read
   * up to one read's duration before they asked, and the next status after it reads again.
   */
  status(target?: string): Promise<SlackMessage> {
    const key = target ?? '';
    let answer = this.statusInFlight.get(key);
    if (!answer) {
      answer = this.readStatus(target).finally(() => this.statusInFlight.delete(key));
      this.statusInFlight.set(key, answer);
    }
    return answer;
  }

  private async readStatus(target?: string): Promise<SlackMessage> {
    const { config, pairs, store, extensions } = this.deps;
    const isCron = target !== undefined && !this.serviceNames.includes(target);
    const names = isCron ? [] : target ? [target] : this.serviceNames;
    // One service: its own pair; several: one listing per zone rather than a call per service.
    const targets = names.map((n) => config.services[n]!.route53);
    const results = targets.length === 1 ? [await pairs.read(targets[0]!).catch((err: Error) => err)] : await pairs.readMany(targets);
    const opens = await Promise.all(names.map((n) => store.openFor(serviceKey(n))));
    const extras = extensions?.serviceExtras && names.length ? await extensions.serviceExtras(names) : new Map<string, readonly string[]>();
    const statuses: ServiceStatus[] = names.map((service, i) => ({
      service,
      recordName: config.services[service]!.route53.recordName,
      pair: results[i]!,
      open: opens[i],
      extra: extras.get(service) ?? [],
    }));
    const more = extensions?.statusTexts && (target === undefined || isCron) ? await extensions.statusTexts(isCron ? target : undefined) : [];
    return renderStatus(statuses, more);
  }
}
