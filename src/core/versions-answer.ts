/**
 * The JSON of `GET /api/v1/services/{service}/versions`, built from the last drift check. Pure.
 * The CLI only imports the types, so its bundle stays free of the bot.
 */
import { classify, type DriftState, isError, runningSince } from './drift.js';

export type SideAnswer =
  | { readonly version: string; readonly since: string; readonly rollingTo?: string }
  | { readonly version: null; readonly since: null; readonly error: string };

export type DriftWord = 'in-sync' | 'drift' | 'unknown' | 'not-checked';

export interface VersionsAnswer {
  readonly service: string;
  /** When the versions below were read; null until the first check after start-up. */
  readonly checkedAt: string | null;
  readonly kubernetes: SideAnswer | null;
  readonly ec2: SideAnswer | null;
  readonly drift: { readonly state: DriftWord; readonly since: string | null; readonly alerted: boolean };
}

/** What the API answers on refusals: a stable code for programs and a sentence for people. */
export interface ApiError {
  readonly error: 'unknown_service' | 'no_version_sources' | 'api_off' | 'unauthorized' | 'rate_limited' | 'unavailable';
  readonly message: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function side(s: DriftState, which: 'kubernetes' | 'ec2'): SideAnswer {
  const r = s[which];
  if (isError(r)) return { version: null, since: null, error: r.error };
  const since = runningSince(s, which) ?? s.checkedAt;
  return { version: r.version, since: iso(since), ...(r.rollingTo && r.rollingTo !== r.version ? { rollingTo: r.rollingTo } : {}) };
}

export function versionsAnswer(service: string, s: DriftState | undefined): VersionsAnswer {
  if (!s) return { service, checkedAt: null, kubernetes: null, ec2: null, drift: { state: 'not-checked', since: null, alerted: false } };
  const state = classify(s.kubernetes, s.ec2);
  return {
    service,
    checkedAt: iso(s.checkedAt),
    kubernetes: side(s, 'kubernetes'),
    ec2: side(s, 'ec2'),
    drift: {
      state,
      since: state === 'in-sync' || !s.episode ? null : iso(s.episode.since),
      alerted: s.episode?.alert !== undefined,
    },
  };
}
