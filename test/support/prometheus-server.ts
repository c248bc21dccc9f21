/**
 * A real, throwaway Prometheus (Debian's /usr/bin/prometheus, installed by scripts/test-setup.sh,
 * never run as a system service) on a free port with its own temporary storage, scraping the
 * given targets every second. Tests stop and start it to play "Prometheus went away".
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFreshPortOnClash } from './free-port.js';
import { type LaunchedServer, launchServer } from './server-process.js';

export interface PrometheusServer extends LaunchedServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

export interface StartPrometheusOptions {
  /** `host:port` targets scraped every second as job "exporter". */
  targets: string[];
  port?: number;
  /** How long to wait for the server to answer after spawning (default 30 s: it replays its WAL and loads its config first). */
  readyTimeoutMs?: number;
}

const BINARY = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';

const INSTALL_HINT = `prometheus not found at ${BINARY}: run \`apt-get install -y --no-install-recommends prometheus\` (scripts/test-setup.sh does this)`;

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  // Spawned through sh, so a missing binary would only show as exit code 127.
  if (!existsSync(BINARY)) throw new Error(INSTALL_HINT);
  return withFreshPortOnClash(opts.port, async (port) => {
    const host = '127.0.0.1';
    const dir = mkdtempSync(join(tmpdir(), 'strangler-prometheus-'));
    // The shell puts its own pid (which exec hands to Prometheus) into an external label, so the
    // readiness probe can tell this Prometheus from another test's on a port clash.
    writeFileSync(
      join(dir, 'prometheus.yml.in'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        '  external_labels:',
        '    strangler_test_pid: "__PID__"',
        'scrape_configs:',
        '  - job_name: exporter',
        '    static_configs:',
        `      - targets: [${opts.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const script = [
      'set -e',
      'sed "s/__PID__/$$/" "$1/prometheus.yml.in" > "$1/prometheus.yml"',
      'exec "$2" --config.file="$1/prometheus.yml" --storage.tsdb.path="$1/data" --web.listen-address="$3" --log.level=warn --storage.tsdb.retention.time=1h',
    ].join('\n');
    const server = await launchServer({
      name: 'prometheus',
      command: 'sh',
      args: ['-c', script, 'prometheus-launcher', dir, BINARY, `${host}:${port}`],
      port,
      host,
      installHint: INSTALL_HINT,
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
      probe: {
        send: 'GET /api/v1/status/config HTTP/1.0\r\nHost: localhost\r\n\r\n',
        complete: /strangler_test_pid: \\"\d+\\"/,
        pid: /strangler_test_pid: \\"(\d+)\\"/,
      },
      onFinalCleanup: () => rmSync(dir, { recursive: true, force: true }),
    });
    return Object.assign(server, { url: `http://${host}:${port}` });
  });
}
