/**
 * User text shown in our messages. Slack's mrkdwn has three control characters; escaping them
 * disarms `<!channel>`, `<@U…>` and links, so a reason can never ping anyone or hide a URL.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function mention(userId: string): string {
  // Ids come from Slack payloads, but a forged or odd one must not become markup.
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeText(userId);
}

/** A Slack date token: shown in each reader's own time zone, with a UTC fallback. */
export function slackDate(ms: number): string {
  const fallback = `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}
