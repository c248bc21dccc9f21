/** Local HTTP `/version` endpoints whose answer a test can change, like a deploy would. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class VersionEndpoints {
  private readonly answers = new Map<string, { status: number; body: string; delayMs: number }>();
  private server!: Server;
  url = '';
  /** When each path was read, for counting checks. */
  readonly hits: Array<{ path: string; at: number }> = [];

  static async start(): Promise<VersionEndpoints> {
    const v = new VersionEndpoints();
    v.server = createServer((req, res) => {
      v.hits.push({ path: req.url ?? '', at: Date.now() });
      const a = v.answers.get(req.url ?? '') ?? { status: 404, body: 'not found', delayMs: 0 };
      setTimeout(() => {
        res.writeHead(a.status, { 'content-type': a.body.startsWith('{') ? 'application/json' : 'text/plain' });
        res.end(a.body);
      }, a.delayMs);
    });
    await new Promise<void>((r) => v.server.listen(0, '127.0.0.1', r));
    v.url = `http://127.0.0.1:${(v.server.address() as AddressInfo).port}`;
    return v;
  }

  /** `/api` answers `{"commit": version}`. */
  set(path: string, version: string, opts: { status?: number; delayMs?: number } = {}): string {
    this.answers.set(path, { status: opts.status ?? 200, body: JSON.stringify({ commit: version }), delayMs: opts.delayMs ?? 0 });
    return `${this.url}${path}`;
  }

  fail(path: string, status: number): void {
    this.answers.set(path, { status, body: 'upstream error', delayMs: 0 });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
