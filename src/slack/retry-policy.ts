/**
 * The Web API retry policy for interactive flows: messages soon or a clear failure, not
 * retries spread over 30 minutes (the default). @slack/web-api is CommonJS and Node's ESM
 * loader cannot see `retryPolicies` as a named export, hence the default import.
 */
import webApi from '@slack/web-api';

export const INTERACTIVE_RETRIES = webApi.retryPolicies.fiveRetriesInFiveMinutes;
