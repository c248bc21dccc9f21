/** The drift check's alerts, as Slack messages in the alert channel (the DriftAnnouncer port). */
import type { AlertRef, DriftAction, DriftState } from '../core/drift.js';
import type { DriftAnnouncer } from '../core/ports.js';
import type { Notifier } from './notifier.js';
import { renderDriftAlert, renderDriftReminder, renderDriftResolved } from './render-drift.js';

export class SlackDriftAnnouncer implements DriftAnnouncer {
  constructor(private readonly notifier: Notifier) {}

  alert(channel: string, state: DriftState, split: string | undefined, now: number): Promise<AlertRef | undefined> {
    return this.notifier.post(channel, renderDriftAlert(state, split, now), `the drift alert for ${state.service}`);
  }

  async remind(alert: AlertRef, state: DriftState, now: number): Promise<void> {
    await this.notifier.post(alert.channel, renderDriftReminder(state, now), 'a drift reminder', alert.ts);
  }

  async resolve(action: Extract<DriftAction, { type: 'resolve' }>, state: DriftState, now: number): Promise<void> {
    const { reply, original } = renderDriftResolved(action, state, now);
    await this.notifier.post(action.alert.channel, reply, 'a drift resolution', action.alert.ts);
    await this.notifier.update(action.alert, original, 'the drift alert');
  }
}
