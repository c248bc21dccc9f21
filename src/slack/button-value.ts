/**
 * What a request's buttons carry: its number and its button key. The key is drawn when the
 * request is created, before its message is posted, so a click proves which request's message it
 * came from by itself. A click that arrives before the bot has learnt the message's ts (Slack shows
 * the message before chat.postMessage answers) is then honoured like any later click, and a message
 * from before a Redis data loss, whose number was given again, is still told apart by its key.
 */
import type { ChangeRequest } from '../core/change-request.js';

export interface ButtonValue {
  readonly id: number;
  /** Absent on buttons posted before keys existed: those are matched by their message's ts. */
  readonly key?: string;
}

export function buttonValue(r: Pick<ChangeRequest, 'id' | 'buttonKey'>): string {
  return r.buttonKey === undefined ? String(r.id) : `${r.id}.${r.buttonKey}`;
}

/** `12.k3Yx…` or a plain `12`; undefined for anything else (a button this bot never made). */
export function parseButtonValue(value: string | undefined): ButtonValue | undefined {
  const m = /^(\d{1,15})(?:\.([A-Za-z0-9_-]{1,64}))?$/.exec(value ?? '');
  if (!m) return undefined;
  return m[2] === undefined ? { id: Number(m[1]) } : { id: Number(m[1]), key: m[2] };
}
