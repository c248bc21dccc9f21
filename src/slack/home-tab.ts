/**
 * The App Home tab: published on `app_home_opened` and on the Refresh button, per user, with
 * `views.publish`. Only members (src/core/membership.ts) see the dashboard; anyone else gets a
 * short view saying so, and nothing is read or changed for them.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema.js';
import { isMember } from '../core/membership.js';
import type { Logger } from '../log.js';
import type { GroupResolver } from './group-members.js';
import type { HomeGather } from './home-gather.js';
import { slackErrorCode } from './notifier.js';
import { HOME_REFRESH, type HomeView, renderHome, renderNotMember } from './render-home.js';

export interface HomeTabDeps {
  readonly config: Config;
  readonly client: WebClient;
  readonly groups: GroupResolver;
  readonly gather: HomeGather;
  readonly log: Logger;
  /** Tracks the work, so a graceful stop lets a publish in flight finish. */
  readonly track?: (work: Promise<void>) => Promise<void>;
}

export class HomeTab {
  /** A gather in flight, shared by everyone who opens the tab meanwhile (one Route 53 listing). */
  private inFlight: Promise<HomeView> | undefined;

  constructor(private readonly deps: HomeTabDeps) {}

  register(app: App): void {
    app.event('app_home_opened', async ({ event }) => {
      // The same event fires for the Messages and About tabs: only the Home tab is ours.
      if (event.tab !== 'home') return;
      await this.run(this.publish(event.user));
    });
    app.action<BlockButtonAction>({ action_id: HOME_REFRESH }, async ({ ack, body }) => {
      await ack();
      await this.run(this.publish(body.user.id));
    });
  }

  private async run(work: Promise<void>): Promise<void> {
    await (this.deps.track ? this.deps.track(work) : work);
  }

  async publish(user: string): Promise<void> {
    try {
      const view = (await this.member(user)) ? await this.dashboard() : renderNotMember();
      await this.deps.client.views.publish({ user_id: user, view: { type: 'home', blocks: [...view.blocks] } as never });
    } catch (err) {
      this.deps.log.warn({ user, err: slackErrorCode(err) ?? (err as Error)?.message }, 'could not publish the Home tab');
    }
  }

  private async member(user: string): Promise<boolean> {
    const { approvers, requesters } = this.deps.config.slack;
    if (requesters.length === 0) return true;
    return isMember(user, { approvers, requesters }, await this.deps.groups.membersOf([...approvers, ...requesters]));
  }

  private dashboard(): Promise<HomeView> {
    this.inFlight ??= this.deps.gather
      .gather()
      .then(renderHome)
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
