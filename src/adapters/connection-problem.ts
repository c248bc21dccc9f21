/**
 * Whether an error means "could not talk to the server at all", for every network adapter. Kept
 * apart from kubernetes-client.ts so that the HTTP version source does not load the Kubernetes
 * client (about 70 MiB and half a second) on a bot that never talks to Kubernetes.
 */
const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection reset',
};

/**
 * A short reason when `err` means "could not talk to the server at all", else null.
 * Shared with the other network adapters: node-fetch (used by the Kubernetes client) reports
 * FetchError{code}, AbortError; undici (global fetch) reports TypeError('fetch failed'){cause:{code}}
 * and DOMException TimeoutError/AbortError.
 */
export function connectionProblem(err: unknown, timeoutMs?: number): string | null {
  const timedOut = timeoutMs === undefined ? 'timed out' : `timed out after ${formatSeconds(timeoutMs)}`;
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 5; depth++) {
    if (typeof e !== 'object') break;
    const o = e as { name?: unknown; code?: unknown; type?: unknown; message?: unknown; cause?: unknown };
    if (o.name === 'TimeoutError' || o.name === 'AbortError' || o.type === 'aborted' || o.type === 'request-timeout') {
      return timedOut;
    }
    if (typeof o.code === 'string' && CONNECTION_CODES[o.code] !== undefined) {
      return CONNECTION_CODES[o.code] ?? null;
    }
    if (o.name === 'FetchError' && o.type === 'system') return 'network error';
    if (typeof o.message === 'string' && /socket hang up|other side closed/i.test(o.message)) return 'connection reset';
    if (o.cause === undefined && o instanceof TypeError && o.message === 'fetch failed') return 'network error';
    e = o.cause;
  }
  return null;
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 1000 ? 2 : 1))} s`;
}
