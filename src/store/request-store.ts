/**
 * Change requests in Redis: the only state the web and worker roles share, so buttons posted
 * before a restart still work after it and two replicas can never both win the same click.
 *
 * Keys (prefix `strangler:`): `seq` request counter · `request:<id>` JSON · `open:<target>` id of the
 * one open request per service/job · `history` and `history:<target>` newest-first ids ·
 * `last-applied:<target>` id of the change a rollback would undo.
 */
import type { Redis } from 'ioredis';
import { DELETE_IF_EQUALS } from './delete-if-equals.js';
import type { ChangeRequest, MessageRef, Transition } from '../core/change-request.js';
import { isOpen, isRollbackPoint, targetKey, transition, withMessage } from '../core/change-request.js';
import { RequestNotFound, RequestOpen } from '../core/errors.js';

const HISTORY_KEEP = 1000;
const MAX_TX_RETRIES = 20;

export type NewRequest = Omit<ChangeRequest, 'id' | 'status'>;

/** Told of every request written, with its previous state (none for a new one): audit log and metrics. */
export type RequestListener = (next: ChangeRequest, previous: ChangeRequest | undefined) => void;

export interface Durability {
  /**
   * Replicas that must hold a write before it counts as done (Redis WAIT). Redis replicates
   * asynchronously: without this, a request a person was told is approved could vanish with a
   * master that died before passing it on, and the replica that takes over would not know it.
   */
  readonly replicas: number;
  /** How long to wait for them; past it the write stands, and a warning says how many had it. */
  readonly timeoutMs: number;
  readonly onShortfall?: (acked: number, wanted: number) => void;
}

export class RequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly listener: RequestListener = () => undefined,
    private readonly prefix = 'strangler:',
    private readonly durability: Durability = { replicas: 0, timeoutMs: 0 },
  ) {}

  /**
   * Holds until the writes made so far on this connection reached the wanted replicas. Never
   * throws: it runs after the write committed, and a write that landed must not be reported as
   * failed. A master with no replica (a single Redis, or one just promoted by a failover) is not
   * waited on, since WAIT would only time out; that is worth a warning only when replicas were
   * there before, which is when a failover could have taken data with it.
   */
  private async replicated(): Promise<void> {
    const { replicas, timeoutMs, onShortfall } = this.durability;
    if (replicas <= 0) return;
    try {
      const connected = await this.connectedReplicas();
      if (connected === 0) {
        if (this.sawReplicas) onShortfall?.(0, replicas);
        return;
      }
      this.sawReplicas = true;
      const acked = Number(await this.redis.wait(Math.min(replicas, connected), timeoutMs));
      if (acked < replicas) onShortfall?.(acked, replicas);
    } catch {
      onShortfall?.(0, replicas);
    }
  }

  private replicaCount: { at: number; count: number } | undefined;
  private sawReplicas = false;

  /** Replicas connected to the master, from INFO replication, read at most every 5 s (0 if INFO is refused). */
  private async connectedReplicas(): Promise<number> {
    if (this.replicaCount && Date.now() - this.replicaCount.at < 5000) return this.replicaCount.count;
    const info = await this.redis.info('replication').catch(() => '');
    const count = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
    this.replicaCount = { at: Date.now(), count };
    return count;
  }

  private key(...parts: Array<string | number>): string {
    return this.prefix + parts.join(':');
  }

  async get(id: number): Promise<ChangeRequest | undefined> {
    const raw = await this.redis.get(this.key('request', id));
    return raw === null ? undefined : (JSON.parse(raw) as ChangeRequest);
  }

  async mustGet(id: number): Promise<ChangeRequest> {
    const r = await this.get(id);
    if (r === undefined) throw new RequestNotFound(id);
    return r;
  }

  /** The open request for a target, clearing a marker left by a request that is no longer open. */
  async openFor(target: string): Promise<ChangeRequest | undefined> {
    const openKey = this.key('open', target);
    const id = await this.redis.get(openKey);
    if (id === null) return undefined;
    const r = await this.get(Number(id));
    if (r !== undefined && isOpen(r)) return r;
    await this.redis.eval(DELETE_IF_EQUALS, 1, openKey, id);
    return undefined;
  }

  /** Creates a request, refusing with RequestOpen if its target already has one. */
  async create(draft: NewRequest): Promise<ChangeRequest> {
    const target = targetKey(draft.change);
    const openKey = this.key('open', target);
    for (let attempt = 0; attempt < 2; attempt++) {
      const id = await this.redis.incr(this.key('seq'));
      const request: ChangeRequest = { ...draft, id, status: 'requested' };
      // SET NX and the request body go in one script so a crash never leaves a marker without a request.
      const won = await this.redis.eval(
        CREATE,
        4,
        openKey,
        this.key('request', id),
        this.key('history'),
        this.key('history', target),
        String(id),
        JSON.stringify(request),
        String(HISTORY_KEEP),
      );
      if (won === 1) {
        await this.replicated();
        this.listener(request, undefined);
        return request;
      }
      const open = await this.openFor(target);
      if (open !== undefined) throw new RequestOpen(target.replace(/^\w+:/, ''), open.id);
    }
    throw new Error(`could not create a request for ${target}: the open marker keeps changing`);
  }

  /** Records the approval message's coordinates (not a status change), unless a click already did. */
  async setMessage(id: number, message: MessageRef): Promise<ChangeRequest> {
    return this.update(id, (r) => withMessage(r, message));
  }

  /**
   * @param clicked the message a click came from: recorded with the transition when the poster
   *   has not recorded it yet, so the decision's own update reaches the message.
   */
  async apply(id: number, t: Transition, clicked?: MessageRef): Promise<ChangeRequest> {
    return this.update(id, (r) => withMessage(transition(r, t), clicked));
  }

  /**
   * Optimistic transaction: read, compute, write only if nobody else wrote in between.
   * Closing a request frees its target and, for an applied one, makes it the rollback point.
   */
  async update(id: number, fn: (r: ChangeRequest) => ChangeRequest): Promise<ChangeRequest> {
    // WATCH belongs to the connection, so two updates interleaved on one connection would
    // unwatch each other; serialize them in-process (other processes have their own connection).
    const run = this.txChain.then(() => this.updateNow(id, fn));
    this.txChain = run.catch(() => undefined);
    return run;
  }

  private txChain: Promise<unknown> = Promise.resolve();

  private async updateNow(id: number, fn: (r: ChangeRequest) => ChangeRequest): Promise<ChangeRequest> {
    const reqKey = this.key('request', id);
    for (let i = 0; i < MAX_TX_RETRIES; i++) {
      await this.redis.watch(reqKey);
      const raw = await this.redis.get(reqKey);
      if (raw === null) {
        await this.redis.unwatch();
        throw new RequestNotFound(id);
      }
      let next: ChangeRequest;
      const previous = JSON.parse(raw) as ChangeRequest;
      try {
        next = fn(previous);
      } catch (err) {
        await this.redis.unwatch();
        throw err;
      }
      const target = targetKey(next.change);
      const tx = this.redis.multi().set(reqKey, JSON.stringify(next));
      if (!isOpen(next)) {
        tx.eval(DELETE_IF_EQUALS, 1, this.key('open', target), String(id));
      }
      // A ramp's steps are not rollback points of their own: the ramp is, once it completes.
      if (isRollbackPoint(next) && !isRollbackPoint(previous) && next.rampOf === undefined) tx.set(this.key('last-applied', target), String(id));
      const res = await tx.exec();
      if (res !== null) {
        await this.replicated();
        this.listener(next, previous);
        return next;
      }
    }
    throw new Error(`request #${id} is being changed by too many writers at once; try again`);
  }

  /** A request number, drawn before the request exists so its parent can record it first (ramp steps). */
  async reserveId(): Promise<number> {
    return this.redis.incr(this.key('seq'));
  }

  /**
   * Writes a ramp's step under a reserved number, already approved (the ramp's approval covers its
   * steps), without taking the service's open marker (the ramp holds it). Idempotent: if a crashed
   * run wrote it already, that one is returned.
   */
  async createChild(id: number, draft: Omit<ChangeRequest, 'id'>): Promise<ChangeRequest> {
    const request = { ...draft, id } as ChangeRequest;
    const target = targetKey(request.change);
    const won = await this.redis.eval(CREATE_CHILD, 3, this.key('request', id), this.key('history'), this.key('history', target), String(id), JSON.stringify(request), String(HISTORY_KEEP));
    if (won !== 1) return this.mustGet(id);
    await this.replicated();
    this.listener(request, undefined);
    return request;
  }

  async lastApplied(target: string): Promise<ChangeRequest | undefined> {
    const id = await this.redis.get(this.key('last-applied', target));
    return id === null ? undefined : this.get(Number(id));
  }

  /** Newest first; `target` limits it to one service or job. */
  async history(limit: number, target?: string): Promise<ChangeRequest[]> {
    const ids = await this.redis.lrange(target ? this.key('history', target) : this.key('history'), 0, limit - 1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key('request', id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as ChangeRequest);
  }

  /** Requests still open, for the start-up sweep that re-queues work a dead process left behind. */
  async openRequests(): Promise<ChangeRequest[]> {
    const keys = await this.scanKeys(this.key('open', '*'));
    if (keys.length === 0) return [];
    const ids = (await this.redis.mget(keys)).filter((id): id is string => id !== null);
    const rs = await Promise.all(ids.map((id) => this.get(Number(id))));
    return rs.filter((r): r is ChangeRequest => r !== undefined && isOpen(r));
  }

  private async scanKeys(pattern: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      out.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }
}


const CREATE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
redis.call('LPUSH', KEYS[4], ARGV[1])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[3]) - 1)
return 1`;

const CREATE_CHILD = `
if redis.call('SET', KEYS[1], ARGV[2], 'NX') == false then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
return 1`;
