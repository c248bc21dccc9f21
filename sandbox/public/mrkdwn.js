// Slack mrkdwn and Block Kit, rendered as DOM nodes. Every piece of message text reaches the page
// through text nodes (append / textContent), never as HTML: the bot escapes user text as &lt;,
// and that is decoded here for display only.

// Slack's emoji names that strangler uses, drawn as small badges so no emoji font is needed.
const EMOJI = {
  white_check_mark: { symbol: '✔', tone: 'ok' },
  heavy_check_mark: { symbol: '✔', tone: 'ok' },
  x: { symbol: '✖', tone: 'bad' },
  no_entry_sign: { symbol: '⊘', tone: 'bad' },
  warning: { symbol: '!', tone: 'warn' },
  rotating_light: { symbol: '!', tone: 'bad' },
  grey_question: { symbol: '?', tone: 'muted' },
  hourglass_flowing_sand: { symbol: '◔', tone: 'info' },
  alarm_clock: { symbol: '◷', tone: 'warn' },
  leftwards_arrow_with_hook: { symbol: '↩', tone: 'muted' },
  // Ramp messages (issue 12).
  rewind: { symbol: '⏪', tone: 'warn' },
  arrows_counterclockwise: { symbol: '↻', tone: 'info' },
  double_vertical_bar: { symbol: '‖', tone: 'warn' },
  stop_sign: { symbol: '■', tone: 'bad' },
};

const ENTITIES = { '&lt;': '<', '&gt;': '>', '&amp;': '&' };

export function decodeEntities(s) {
  return s.replace(/&(?:lt|gt|amp);/g, (e) => ENTITIES[e]);
}

// One pass, left to right; the first alternative that matches at a position wins, so code spans
// keep their asterisks (`*/30 * * * *`).
const TOKEN = new RegExp(
  [
    '```\\n?([\\s\\S]+?)```', // 1 code block
    '`([^`\\n]+)`', // 2 inline code
    '<([^<>\\n]+)>', // 3 mention, channel, date or link
    '(?<![\\w*])\\*([^*\\n]+)\\*(?![\\w*])', // 4 bold
    '(?<![\\w_])_([^_\\n]+)_(?![\\w_])', // 5 italic
    '(?<![\\w~])~([^~\\n]+)~(?![\\w~])', // 6 strike
    ':([a-z0-9_+-]+):', // 7 emoji
  ].join('|'),
  'g',
);

/** @param {{ userName(id: string): string, channelName(id: string): string }} names */
export function renderMrkdwn(text, names) {
  const frag = document.createDocumentFragment();
  appendInline(frag, text ?? '', names);
  return frag;
}

function appendInline(parent, text, names) {
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > last) parent.append(decodeEntities(text.slice(last, m.index)));
    parent.append(tokenNode(m, names));
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(decodeEntities(text.slice(last)));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function tokenNode(m, names) {
  if (m[1] !== undefined) return el('pre', 'code-block', decodeEntities(m[1]));
  if (m[2] !== undefined) return el('code', '', decodeEntities(m[2]));
  if (m[3] !== undefined) return special(m[3], names);
  const styled = [
    [4, 'strong'],
    [5, 'em'],
    [6, 's'],
  ].find(([i]) => m[i] !== undefined);
  if (styled) {
    const node = el(styled[1]);
    appendInline(node, m[styled[0]], names);
    return node;
  }
  const emoji = EMOJI[m[7]];
  if (!emoji) return document.createTextNode(m[0]);
  const badge = el('span', `emoji tone-${emoji.tone}`, emoji.symbol);
  badge.title = `:${m[7]}:`;
  return badge;
}

/** `<@U123>`, `<#C123|name>`, `<!date^…|fallback>`, `<!here>`, `<https://…|label>`. */
function special(inner, names) {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith('@')) return el('span', 'mention', `@${label ?? names.userName(target.slice(1))}`);
  if (target.startsWith('#')) return el('span', 'mention', `#${label ?? names.channelName(target.slice(1))}`);
  if (target.startsWith('!date^')) return el('span', 'date', label ?? target);
  if (target.startsWith('!subteam^')) return el('span', 'mention', label ?? '@group');
  if (target.startsWith('!')) return el('span', 'mention', `@${target.slice(1)}`);
  const href = decodeEntities(target);
  if (!/^https?:\/\//i.test(href)) return document.createTextNode(label ?? href);
  const a = el('a', '', label ?? href);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

function textObject(obj, names) {
  if (!obj || typeof obj.text !== 'string') return document.createDocumentFragment();
  if (obj.type === 'mrkdwn') return renderMrkdwn(obj.text, names);
  return document.createTextNode(obj.text);
}

function buttonNode(b, onButton) {
  const node = el('button', `btn${b.style ? ` btn-${b.style}` : ''}`, b.text?.text ?? b.value ?? 'Button');
  node.type = 'button';
  node.dataset.actionId = b.action_id ?? '';
  node.addEventListener('click', () => onButton(b, node));
  return node;
}

/**
 * A message as Slack lays it out: its blocks, or its text when it has none.
 * @param {{ text?: string, blocks?: any[] }} msg
 * @param {(button: any, node: HTMLButtonElement) => void} onButton
 */
export function renderMessageBody(msg, names, onButton) {
  const wrap = el('div', 'blocks');
  const blocks = Array.isArray(msg.blocks) ? msg.blocks : [];
  if (blocks.length === 0) {
    const node = el('div', 'block-section');
    node.append(renderMrkdwn(msg.text ?? '', names));
    wrap.append(node);
    return wrap;
  }
  for (const b of blocks) {
    switch (b.type) {
      case 'section': {
        const node = el('div', 'block-section');
        const text = el('div', 'section-text');
        text.append(textObject(b.text, names));
        node.append(text);
        if (Array.isArray(b.fields)) {
          const fields = el('div', 'section-fields');
          for (const f of b.fields) {
            const field = el('div', 'field');
            field.append(textObject(f, names));
            fields.append(field);
          }
          node.append(fields);
        }
        if (b.accessory?.type === 'button') node.append(buttonNode(b.accessory, onButton));
        wrap.append(node);
        break;
      }
      case 'context': {
        const node = el('div', 'block-context');
        for (const e of b.elements ?? []) {
          if (e.type === 'image') continue;
          const span = el('span', 'context-item');
          span.append(textObject(e, names));
          node.append(span);
        }
        wrap.append(node);
        break;
      }
      case 'actions': {
        const node = el('div', 'block-actions');
        for (const e of b.elements ?? []) if (e.type === 'button') node.append(buttonNode(e, onButton));
        wrap.append(node);
        break;
      }
      case 'header':
        wrap.append(el('div', 'block-header', b.text?.text ?? ''));
        break;
      case 'divider':
        wrap.append(el('hr', 'block-divider'));
        break;
      default:
        wrap.append(el('div', 'block-unknown', `[${b.type} block]`));
    }
  }
  return wrap;
}
