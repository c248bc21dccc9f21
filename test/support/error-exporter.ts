/**
 * A tiny Prometheus exporter for the Kubernetes side of a service: request and error counters in
 * the text exposition format, advancing with wall-clock time at the rate the test sets. A test
 * (or the sandbox's "Make Kubernetes fail" control) raises the error ratio and a real Prometheus
 * scraping this sees `rate(http_requests_total{code="500"}[…])` go up, as it would in a cluster.
 */
import { createServer, type Server } from 'node:http';

export interface Traffic {
  /** Requests per second on the Kubernetes side. */
  requestsPerSecond: number;
  /** Share of those answered 500, 0…1. */
  errorRatio: number;
}

export interface ErrorExporter {
  readonly port: number;
  /** `127.0.0.1:<port>`, a scrape target. */
  readonly target: string;
  readonly url: string;
  /** Scrapes served so far: wait for it to pass a mark to know Prometheus has seen a change. */
  readonly scrapes: number;
  readonly traffic: Traffic;
  setTraffic(traffic: Partial<Traffic>): void;
  close(): Promise<void>;
}

export interface ErrorExporterOptions {
  service?: string;
  traffic?: Partial<Traffic>;
  port?: number;
}

export async function startErrorExporter(opts: ErrorExporterOptions = {}): Promise<ErrorExporter> {
  const service = opts.service ?? 'api';
  let traffic: Traffic = { requestsPerSecond: 100, errorRatio: 0, ...opts.traffic };
  let ok = 0;
  let errors = 0;
  let last = Date.now();
  let scrapes = 0;

  // Counters advance lazily, by the time since the last advance at the rate in force then, so a
  // change of rate applies from the moment it is made.
  const advance = () => {
    const now = Date.now();
    const requests = (traffic.requestsPerSecond * (now - last)) / 1000;
    errors += requests * traffic.errorRatio;
    ok += requests * (1 - traffic.errorRatio);
    last = now;
  };

  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    advance();
    scrapes += 1;
    const labels = (code: string) => `service="${service}",platform="kubernetes",code="${code}"`;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# HELP http_requests_total Requests answered by the Kubernetes side.',
        '# TYPE http_requests_total counter',
        `http_requests_total{${labels('200')}} ${ok}`,
        `http_requests_total{${labels('500')}} ${errors}`,
        '# HELP exporter_error_ratio The error ratio the test set, as a gauge.',
        '# TYPE exporter_error_ratio gauge',
        `exporter_error_ratio{service="${service}"} ${traffic.errorRatio}`,
        '',
      ].join('\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/metrics`,
    get scrapes() {
      return scrapes;
    },
    get traffic() {
      return { ...traffic };
    },
    setTraffic(next) {
      advance();
      traffic = { ...traffic, ...next };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
