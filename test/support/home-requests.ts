/**
 * What Slack sends for the App Home tab, correctly signed: the `app_home_opened` event (Events API,
 * JSON body) and a button click inside a Home view (block_actions whose container is the view, with
 * no channel and no message).
 */
import { randomBytes } from 'node:crypto';
import { FORM_CONTENT_TYPE, postSlackRaw, signSlackRequest, type SlackHttpResult, TEST_VERIFICATION_TOKEN } from './slack-requests.js';
import { TEST_APP_ID, TEST_TEAM_DOMAIN, TEST_TEAM_ID, type SlackBlock } from './slack-stand-in.js';

function eventsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/slack/events`;
}

async function postSigned(baseUrl: string, secret: string, body: string, contentType: string): Promise<SlackHttpResult> {
  return postSlackRaw(eventsUrl(baseUrl), { body, headers: { 'Content-Type': contentType, ...signSlackRequest(secret, body) } });
}

export function appHomeOpenedEnvelope(user: string, tab: 'home' | 'messages' = 'home'): Record<string, unknown> {
  const now = Date.now() / 1000;
  return {
    token: TEST_VERIFICATION_TOKEN,
    team_id: TEST_TEAM_ID,
    api_app_id: TEST_APP_ID,
    event: { type: 'app_home_opened', user, channel: `D0${user.slice(2)}`, tab, event_ts: now.toFixed(6) },
    type: 'event_callback',
    event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
    event_time: Math.floor(now),
    authorizations: [{ team_id: TEST_TEAM_ID, user_id: 'U0STRANGLR', is_bot: true, is_enterprise_install: false }],
  };
}

export async function postAppHomeOpened(baseUrl: string, secret: string, user: string, tab: 'home' | 'messages' = 'home'): Promise<SlackHttpResult> {
  return postSigned(baseUrl, secret, JSON.stringify(appHomeOpenedEnvelope(user, tab)), 'application/json');
}

export function homeButtonPayload(user: string, view: { blocks: SlackBlock[] }, actionId: string): Record<string, unknown> {
  const block = view.blocks.find((b) => Array.isArray(b.elements) && b.elements.some((e: { action_id?: string }) => e.action_id === actionId));
  const el = (block?.elements as Array<{ action_id: string; value?: string; text?: { text: string } }> | undefined)?.find((e) => e.action_id === actionId);
  if (!el) throw new Error(`no ${actionId} button in the Home view`);
  const viewId = 'V0HOME';
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: TEST_TEAM_ID },
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    container: { type: 'view', view_id: viewId },
    trigger_id: `${Date.now()}.${randomBytes(8).toString('hex')}`,
    team: { id: TEST_TEAM_ID, domain: TEST_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    view: { id: viewId, type: 'home', blocks: view.blocks, app_id: TEST_APP_ID, team_id: TEST_TEAM_ID, state: { values: {} }, hash: '1.abc' },
    actions: [{ action_id: actionId, block_id: block!.block_id ?? 'home', text: { type: 'plain_text', text: el.text?.text ?? '' }, value: el.value ?? '', type: 'button', action_ts: (Date.now() / 1000).toFixed(6) }],
  };
}

export async function postHomeButton(baseUrl: string, secret: string, user: string, view: { blocks: SlackBlock[] }, actionId: string): Promise<SlackHttpResult> {
  const body = new URLSearchParams({ payload: JSON.stringify(homeButtonPayload(user, view, actionId)) }).toString();
  return postSigned(baseUrl, secret, body, FORM_CONTENT_TYPE);
}
