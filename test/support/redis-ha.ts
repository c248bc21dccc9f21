/**
 * Redis as teams run it in production, from Debian's own redis-server: with TLS (a throwaway CA
 * and server certificate made with openssl), and as a Sentinel group (a master, a replica and
 * three sentinels on free ports) whose master a test can kill to watch a failover.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { type LaunchedServer, launchServer } from './server-process.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

const MASTER_NAME = 'strangler-master';

export interface TestCa {
  readonly dir: string;
  /** PEM files: the CA (what REDIS_CA_FILE points at), the server's certificate and key. */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Another CA, that signed nothing the server has: trusting it must fail the handshake. */
  readonly otherCaFile: string;
}

/** A CA and a certificate for 127.0.0.1 signed by it (openssl, RSA 2048, one day). */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'strangler-ca-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ca = (name: string) => run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`]);
  ca('test-ca');
  ca('other-ca');
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.pem']);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { dir, caFile: join(dir, 'test-ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), otherCaFile: join(dir, 'other-ca.pem') };
}

export interface TlsRedis extends RedisServer {
  /** `rediss://127.0.0.1:<tls port>` */
  readonly tlsUrl: string;
}

/** redis-server with a plain port (for the readiness probe) and a TLS port signed by `ca`. */
export async function startTlsRedis(ca: TestCa): Promise<TlsRedis> {
  for (let attempt = 0; ; attempt++) {
    const tlsPort = await freePort();
    try {
      const server = await startRedisServer({
        extraArgs: ['--tls-port', String(tlsPort), '--tls-cert-file', ca.certFile, '--tls-key-file', ca.keyFile, '--tls-ca-cert-file', ca.caFile, '--tls-auth-clients', 'no'],
      });
      return Object.assign(server, { tlsUrl: `rediss://127.0.0.1:${tlsPort}` });
    } catch (err) {
      if (attempt < 3 && /in use/i.test((err as Error).message)) continue;
      throw err;
    }
  }
}

export interface SentinelGroup {
  readonly name: string;
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinels: readonly LaunchedServer[];
  /** `host:port,…`, as REDIS_SENTINELS takes it. */
  readonly sentinelList: string;
  /** The address the sentinels name as master now. */
  currentMaster(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A master, a replica and three sentinels (quorum 2). Failover is tuned for tests: a master is
 * down after 1 s without answers, and a failover may take 5 s.
 */
export async function startSentinelGroup(): Promise<SentinelGroup> {
  const master = await startRedisServer();
  const replica = await startRedisServer({ extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] });
  const admin = new Redis(replica.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // The replica has caught up before any sentinel watches: a failover must have a replica to promote.
  for (const deadline = Date.now() + 15_000; ; ) {
    const info = await admin.info('replication').catch(() => '');
    if (/master_link_status:up/.test(info)) break;
    if (Date.now() > deadline) throw new Error(`replica of ${master.url} did not sync: ${info}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  admin.disconnect();

  const dir = mkdtempSync(join(tmpdir(), 'strangler-sentinel-'));
  const sentinels: LaunchedServer[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(
      await launchServer({
        name: 'redis-sentinel',
        command: 'redis-server',
        args: [conf, '--sentinel'],
        port,
        host: '127.0.0.1',
        installHint: "redis-server not found: run `apt-get install -y redis-server` (the README's test command does this)",
        readyTimeoutMs: 10_000,
        probe: { send: 'INFO server\r\n', complete: /process_id:\d+\r\n|^-[^\r]*\r\n/, pid: /process_id:(\d+)/ },
      }),
    );
  }
  const sentinelList = sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  const currentMaster = async () => {
    const s = new Redis({ host: '127.0.0.1', port: sentinels[0]!.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const [host, port] = (await s.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string];
      return `${host}:${port}`;
    } finally {
      s.disconnect();
    }
  };
  return {
    name: MASTER_NAME,
    master,
    replica,
    sentinels,
    sentinelList,
    currentMaster,
    async stop() {
      await Promise.allSettled([...sentinels.map((s) => s.kill()), master.kill(), replica.kill()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
