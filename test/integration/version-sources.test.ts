import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentVersionSource, imageTag } from '../../src/adapters/deployment-version-source.js';
import { HttpVersionSource } from '../../src/adapters/http-version-source.js';
import { NotFound, Unreachable } from '../../src/core/errors.js';
import { freePort } from '../support/free-port.js';
import { startKubernetesStandIn, type KubernetesStandIn } from '../support/kubernetes-stand-in.js';

describe('imageTag', () => {
  it.each([
    ['registry.example.com/team/api:abc123', 'abc123'],
    ['registry.example.com:5000/api:v1.2.3', 'v1.2.3'],
    ['registry.example.com:5000/api', 'latest'],
    ['api', 'latest'],
    ['api:7f3e9a1', '7f3e9a1'],
    ['registry.example.com/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'sha256:0123456789ab'],
    ['registry.example.com/api:v2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'v2'],
  ])('%s → %s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});

describe('DeploymentVersionSource', () => {
  let standIn: KubernetesStandIn;
  let kc: KubeConfig;

  beforeAll(async () => {
    standIn = await startKubernetesStandIn();
    kc = new KubeConfig();
    kc.loadFromFile(standIn.kubeconfig());
  });

  afterAll(async () => {
    await standIn.close();
  });

  afterEach(async () => {
    standIn.allow('api');
    await standIn.up();
  });

  const source = (container?: string) =>
    new DeploymentVersionSource(kc, { namespace: 'api', name: 'api', ...(container ? { container } : {}) }, { timeoutMs: 1_000 });

  it('reads the tag of the first container of a settled Deployment', async () => {
    standIn.putDeployment({ namespace: 'api', name: 'api', containers: [{ name: 'api', image: 'registry.example.com/api:abc123' }], replicas: 3 });
    const s = source();
    expect(s.description).toBe('Deployment api/api');
    expect(await s.read()).toEqual({ version: 'abc123' });
    // Settled: no ReplicaSet lookup.
    expect(standIn.callsTo({ resource: 'replicasets' })).toEqual([]);
  });

  it('reads the named container, not a sidecar', async () => {
    standIn.putDeployment({
      namespace: 'api',
      name: 'api',
      containers: [
        { name: 'envoy', image: 'envoyproxy/envoy:v1.31.0' },
        { name: 'api', image: 'registry.example.com/api:def456' },
      ],
      replicas: 2,
    });
    const s = source('api');
    expect(s.description).toBe('Deployment api/api container api');
    expect(await s.read()).toEqual({ version: 'def456' });
  });

  it('mid-rollout reports the old version from the old ReplicaSet and rollingTo the new tag', async () => {
    standIn.putDeployment({
      namespace: 'api',
      name: 'api',
      containers: [{ name: 'api', image: 'registry.example.com/api:new222' }],
      previousContainers: [{ name: 'api', image: 'registry.example.com/api:old111' }],
      replicas: 4,
      updatedReplicas: 1,
      generation: 2,
    });
    expect(await source().read()).toEqual({ version: 'old111', rollingTo: 'new222' });
  });

  it('mid-rollout without permission to list ReplicaSets falls back to the template tag for both', async () => {
    standIn.putDeployment({
      namespace: 'api',
      name: 'api',
      containers: [{ name: 'api', image: 'registry.example.com/api:new222' }],
      previousContainers: [{ name: 'api', image: 'registry.example.com/api:old111' }],
      replicas: 4,
      updatedReplicas: 1,
    });
    standIn.forbid('api', { resources: ['replicasets'] });
    expect(await source().read()).toEqual({ version: 'new222', rollingTo: 'new222' });
  });

  it('treats a template the controller has not observed yet as a rollout', async () => {
    standIn.putDeployment({
      namespace: 'api',
      name: 'api',
      containers: [{ name: 'api', image: 'registry.example.com/api:new222' }],
      previousContainers: [{ name: 'api', image: 'registry.example.com/api:old111' }],
      replicas: 2,
      updatedReplicas: 0,
      generation: 5,
      observedGeneration: 4,
    });
    expect(await source().read()).toEqual({ version: 'old111', rollingTo: 'new222' });
  });

  it('is NotFound for a missing Deployment', async () => {
    const err = await new DeploymentVersionSource(kc, { namespace: 'api', name: 'ghost' }).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFound);
    expect((err as NotFound).message).toContain('Deployment `api/ghost`');
  });

  it('is NotFound for a missing container, listing the ones there are', async () => {
    standIn.putDeployment({ namespace: 'api', name: 'api', containers: [{ name: 'web', image: 'web:1' }], replicas: 1 });
    const err = await source('api').read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFound);
    expect((err as NotFound).hint).toBe('Containers: web.');
  });

  it('is Unreachable when the API server is down', async () => {
    await standIn.down();
    const err = await source().read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    expect((err as Error).message).toContain('connection refused');
  });
});

describe('HttpVersionSource', () => {
  let server: Server;
  let base: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const answer = (status: number, body: string, type = 'application/json') => {
    handler = (_req, res) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
  };

  const failure = async (source: HttpVersionSource): Promise<Unreachable> => {
    const err = await source.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unreachable);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/\bat .*\.(js|ts):\d+/);
    return err as Unreachable;
  };

  it('reads a top-level JSON field', async () => {
    answer(200, JSON.stringify({ commit: 'abc123', built: '2025-03-01' }));
    expect(await new HttpVersionSource({ url: `${base}/version`, field: 'commit' }).read()).toEqual({ version: 'abc123' });
  });

  it('reads a nested JSON field by dot path', async () => {
    answer(200, JSON.stringify({ build: { sha: 'def456' } }));
    expect(await new HttpVersionSource({ url: `${base}/version`, field: 'build.sha' }).read()).toEqual({ version: 'def456' });
  });

  it('takes the whole body, trimmed, without a field', async () => {
    answer(200, '  ghi789\n', 'text/plain');
    const s = new HttpVersionSource({ url: `${base}/version` });
    expect(s.description).toBe(`${base}/version`);
    expect(await s.read()).toEqual({ version: 'ghi789' });
  });

  it('refuses an HTML page as a bare version', async () => {
    answer(200, '<!doctype html>\n<html><body>It works!</body></html>\n', 'text/html');
    const err = await failure(new HttpVersionSource({ url: `${base}/` }));
    expect(err.message).toMatch(/is not a bare version/);
  });

  it('is Unreachable on HTTP 503', async () => {
    answer(503, 'upstream connect error');
    const err = await failure(new HttpVersionSource({ url: `${base}/version`, field: 'commit' }));
    expect(err.message).toBe(`${base}/version: HTTP 503`);
  });

  it('is Unreachable when the field is missing', async () => {
    answer(200, JSON.stringify({ version: '1.2.3' }));
    const err = await failure(new HttpVersionSource({ url: `${base}/version`, field: 'commit' }));
    expect(err.message).toBe(`${base}/version: field \`commit\` missing`);
  });

  it('is Unreachable when a field is asked of a body that is not JSON', async () => {
    answer(200, '<html>maintenance</html>', 'text/html');
    const err = await failure(new HttpVersionSource({ url: `${base}/version`, field: 'commit' }));
    expect(err.message).toMatch(/not JSON/);
  });

  it('is Unreachable after the timeout when the server does not answer', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const err = await failure(new HttpVersionSource({ url: `${base}/slow`, timeoutMs: 200 }));
    expect(err.message).toBe(`${base}/slow: timed out after 0.2 s`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out on a body that trickles', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('abc');
    };
    const err = await failure(new HttpVersionSource({ url: `${base}/trickle`, timeoutMs: 200 }));
    expect(err.message).toBe(`${base}/trickle: timed out after 0.2 s`);
  });

  it('is Unreachable with "connection refused" when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}/version`;
    const err = await failure(new HttpVersionSource({ url }));
    expect(err.message).toBe(`${url}: connection refused`);
  });

  it('refuses a body larger than the limit instead of buffering it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Chunked, no content-length: the limit must hold while streaming.
      for (let i = 0; i < 20; i++) res.write('x'.repeat(8 * 1024));
      res.end();
    };
    const err = await failure(new HttpVersionSource({ url: `${base}/big` }));
    expect(err.message).toBe(`${base}/big: response larger than 64 KiB`);
  });

  it('sends credentials in the URL as Basic auth and keeps them out of messages', async () => {
    const port = (server.address() as AddressInfo).port;
    const url = `http://bot:s3cret@127.0.0.1:${port}/version`;
    let authorization: string | undefined;
    handler = (req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(200);
      res.end('jkl012');
    };
    expect(await new HttpVersionSource({ url }).read()).toEqual({ version: 'jkl012' });
    expect(authorization).toBe(`Basic ${Buffer.from('bot:s3cret').toString('base64')}`);

    answer(503, '');
    const s = new HttpVersionSource({ url });
    expect(s.description).not.toContain('s3cret');
    const err = await failure(s);
    expect(err.message).toBe(`http://127.0.0.1:${port}/version: HTTP 503`);
  });
});
