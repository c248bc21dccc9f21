/** The out-of-band check's alerts, as Slack messages in the alert channel (the OutsideAnnouncer port). */
import type { AlertRef } from '../core/drift.js';
import type { OutsideAnnouncer, OutsideEnd, OutsideEpisode } from '../core/outside-change.js';
import type { Notifier } from './notifier.js';
import { renderOutsideAlert, renderOutsideResolved } from './render-outside.js';

export class SlackOutsideAnnouncer implements OutsideAnnouncer {
  constructor(private readonly notifier: Notifier) {}

  alert(channel: string, service: string, episode: OutsideEpisode): Promise<AlertRef | undefined> {
    return this.notifier.post(channel, renderOutsideAlert(service, episode), `the outside-change alert for ${service}`);
  }

  async update(alert: AlertRef, service: string, episode: OutsideEpisode): Promise<void> {
    await this.notifier.update(alert, renderOutsideAlert(service, episode), 'the outside-change alert');
  }

  async resolve(alert: AlertRef, service: string, episode: OutsideEpisode, end: OutsideEnd, now: number): Promise<void> {
    await this.notifier.update(alert, renderOutsideResolved(service, episode, end, now), 'the outside-change alert');
  }
}
