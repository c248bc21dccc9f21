/**
 * Slack's Socket Mode, as @slack/socket-mode speaks it (https://api.slack.com/apis/socket-mode):
 * the app calls `apps.connections.open` with its app-level token (answered by the Slack stand-in,
 * which hands out `nextUrl()`), opens the WebSocket, gets `{"type":"hello"}`, then receives
 * envelopes `{envelope_id, type, payload, accepts_response_payload}` and acks each by sending
 * `{envelope_id, payload?}` back. The server pings every few seconds (the client closes a
 * connection whose pings stop) and may ask the client to reconnect with
 * `{"type":"disconnect","reason":"refresh_requested"|"warning"|…}`.
 *
 * Envelopes are only sent on an open, hello'd connection; `send` says when the ack came back.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { SlackHttpResult } from './slack-requests.js';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface Ack {
  readonly envelopeId: string;
  /** What the app put in the ack: a slash command's answer, for example. */
  readonly payload: Record<string, unknown>;
  /** Milliseconds from sending the envelope to its ack. */
  readonly ms: number;
}

export interface SentEnvelope {
  readonly envelopeId: string;
  /** Resolves with the app's ack; rejects after `timeoutMs` (default 10 s) without one. */
  readonly acked: Promise<Ack>;
}

export class SocketModeStandIn {
  /** Every ack received, in order (a redelivered envelope is acked again, so twice). */
  readonly acks: Ack[] = [];
  /** How many connections the app has opened so far. */
  opened = 0;

  private readonly sockets = new Set<WebSocket>();
  private readonly waiting = new Map<string, { resolve: (a: Ack) => void; sentAt: number }>();
  private readonly tickets = new Set<string>();
  private readonly pinger: NodeJS.Timeout;

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
  ) {
    wss.on('connection', (socket, req) => this.accept(socket, req.url ?? ''));
    this.pinger = setInterval(() => {
      for (const s of this.sockets) if (s.readyState === WebSocket.OPEN) s.ping(Buffer.from(`ping ${Date.now()}`));
    }, 2_000);
    this.pinger.unref();
  }

  static async start(): Promise<SocketModeStandIn> {
    const server = createServer((_req, res) => res.writeHead(426).end('WebSocket only'));
    const wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new SocketModeStandIn(server, wss);
  }

  /** A fresh single-use URL, as apps.connections.open returns one per call. */
  nextUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/link/?ticket=${ticket}&app_id=A0STRANGLER`;
  }

  /** Open connections that have been sent hello. */
  get connected(): number {
    return [...this.sockets].filter((s) => s.readyState === WebSocket.OPEN).length;
  }

  /** Sends an envelope on the newest connection, as Slack does (it picks one of the app's). */
  send(type: EnvelopeType, payload: Record<string, unknown>, opts: { envelopeId?: string; retryAttempt?: number; timeoutMs?: number } = {}): SentEnvelope {
    const socket = [...this.sockets].reverse().find((s) => s.readyState === WebSocket.OPEN);
    if (!socket) throw new Error('socket mode stand-in: the app has no open connection');
    const envelopeId = opts.envelopeId ?? randomUUID();
    const acked = new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`no ack for envelope ${envelopeId} (${type}) within ${opts.timeoutMs ?? 10_000} ms`));
      }, opts.timeoutMs ?? 10_000);
      this.waiting.set(envelopeId, {
        sentAt: performance.now(),
        resolve: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
      });
    });
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        ...(opts.retryAttempt ? { retry_attempt: opts.retryAttempt, retry_reason: 'timeout' } : {}),
      }),
    );
    return { envelopeId, acked };
  }

  /** Slack asking the app to reconnect: the app closes this connection and opens a new one. */
  disconnectAll(reason: 'refresh_requested' | 'warning' | 'link_disabled'): void {
    for (const s of this.sockets) if (s.readyState === WebSocket.OPEN) s.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'stand-in' } }));
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const s of this.sockets) s.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, url: string): void {
    const ticket = new URL(url, 'ws://stand-in').searchParams.get('ticket') ?? '';
    // A URL is good for one connection, as Slack's are.
    if (!this.tickets.delete(ticket)) {
      socket.close(1008, 'invalid ticket');
      return;
    }
    this.opened += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('message', (data) => this.onMessage(data.toString('utf8')));
    socket.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.size, connection_info: { app_id: 'A0STRANGLER' }, debug_info: { host: 'stand-in' } }));
  }

  private onMessage(text: string): void {
    let msg: { envelope_id?: string; payload?: Record<string, unknown> };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (!msg.envelope_id) return;
    const w = this.waiting.get(msg.envelope_id);
    const ack: Ack = { envelopeId: msg.envelope_id, payload: msg.payload ?? {}, ms: w ? performance.now() - w.sentAt : Number.NaN };
    this.acks.push(ack);
    if (w) {
      this.waiting.delete(msg.envelope_id);
      w.resolve(ack);
    }
  }
}

/**
 * Sends an envelope and answers with its ack shaped like Bolt's HTTP answer to the same request
 * (the ack's payload as the body), so callers that speak to the bot both ways need not care.
 */
export async function sendAsHttp(socket: SocketModeStandIn, type: EnvelopeType, payload: Record<string, unknown>): Promise<SlackHttpResult> {
  const ack = await socket.send(type, payload).acked;
  const body = Object.keys(ack.payload).length > 0 ? JSON.stringify(ack.payload) : '';
  return {
    status: 200,
    body,
    headers: new Headers(),
    json: <T>() => JSON.parse(body) as T,
    request: { url: 'socket-mode', body: JSON.stringify(payload), headers: {} },
  };
}
