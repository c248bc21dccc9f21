/** The few Block Kit shapes strangler uses, so renderers read as sentences, not JSON. */
export interface Button {
  readonly type: 'button';
  readonly action_id: string;
  readonly text: { readonly type: 'plain_text'; readonly text: string };
  readonly value: string;
  readonly style?: 'primary' | 'danger';
}

export type Block =
  | { readonly type: 'section'; readonly text: { readonly type: 'mrkdwn'; readonly text: string } }
  | { readonly type: 'context'; readonly elements: ReadonlyArray<{ readonly type: 'mrkdwn'; readonly text: string }> }
  | { readonly type: 'actions'; readonly block_id: string; readonly elements: readonly Button[] }
  | { readonly type: 'divider' };

/** Slack refuses section text over 3000 characters; cut rather than fail a message. */
const SECTION_MAX = 3000;

export function section(text: string): Block {
  const t = text.length > SECTION_MAX ? `${text.slice(0, SECTION_MAX - 1)}…` : text;
  return { type: 'section', text: { type: 'mrkdwn', text: t } };
}

/** Slack refuses a message of more than 50 blocks. */
export const MAX_BLOCKS = 50;

/**
 * Packs many short texts (one per service or job) into as few sections as fit, at most
 * `maxBlocks`, saying how many were left out rather than having Slack refuse the message.
 */
export function packedSections(texts: readonly string[], maxBlocks: number, more: (left: number) => string, separator = '\n\n'): Block[] {
  const out: string[] = [];
  let current = '';
  for (const t of texts) {
    const piece = t.length > SECTION_MAX ? `${t.slice(0, SECTION_MAX - 1)}…` : t;
    if (current && current.length + separator.length + piece.length > SECTION_MAX) {
      out.push(current);
      current = piece;
    } else {
      current = current ? `${current}${separator}${piece}` : piece;
    }
  }
  if (current) out.push(current);
  if (out.length <= maxBlocks) return out.map(section);
  const kept = out.slice(0, maxBlocks - 1);
  const shown = kept.reduce((n, s) => n + s.split(separator).length, 0);
  return [...kept.map(section), section(more(texts.length - shown))];
}

export function context(...texts: string[]): Block {
  return { type: 'context', elements: texts.map((text) => ({ type: 'mrkdwn', text })) };
}

export function button(label: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text: label }, value, ...(style ? { style } : {}) };
}

export function actions(blockId: string, ...elements: Button[]): Block {
  return { type: 'actions', block_id: blockId, elements };
}

export interface SlackMessage {
  /** Notification and screen-reader text; mrkdwn, so user text in it is escaped too. */
  readonly text: string;
  readonly blocks: readonly Block[];
}

export const ACTION = { approve: 'approve', reject: 'reject', rollback: 'rollback' } as const;

export function plain(text: string): SlackMessage {
  return { text, blocks: [section(text)] };
}
