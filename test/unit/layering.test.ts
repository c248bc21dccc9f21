/**
 * The import rules of src/ (ARCHITECTURE.md's picture, enforced): the domain core depends on
 * nothing, adapters and stores only on the core and the config, and the queue never on Slack.
 * Slack reaches the queue, not the other way round; bot.ts wires the two through ports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module a file imports: static, type-only, re-exported and dynamic. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/g, // import … from 'x', export … from 'x'
    /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g, // import 'x' (for its effects)
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('x'), typeof import('x')
  ];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => ({ at: m.index, specifier: m[1]! }))).sort((a, b) => a.at - b.at).map((m) => m.specifier);
}

/** `core`, `slack`, … for a module under src/; a package name or `node:` built-in otherwise. */
function layerOf(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return `package ${specifier}`;
  const target = relative(SRC, resolve(dirname(from), specifier));
  return target.includes('/') ? target.split('/')[0]! : `src/${target.replace(/\.js$/, '')}`;
}

const graph = files(SRC).map((f) => ({ layer: relative(SRC, f).split('/')[0]!, file: relative(SRC, f), uses: importsOf(f).map((s) => layerOf(f, s)) }));

function offences(layer: string, allowed: (used: string) => boolean): string[] {
  return graph.filter((g) => g.layer === layer).flatMap((g) => g.uses.filter((u) => u !== layer && !allowed(u)).map((u) => `${g.file} imports ${u}`));
}

describe('layering of src/', () => {
  it('the scanner sees imports of every kind (so the rules below can fail)', () => {
    const bot = graph.find((g) => g.file === 'bot.ts')!;
    expect(bot.uses).toEqual(expect.arrayContaining(['slack', 'queue', 'adapters', 'package @slack/web-api']));
    // Dynamic imports count: the Kubernetes and Route 53 adapters are loaded that way.
    expect(importsOf(join(SRC, 'bot.ts'))).toEqual(expect.arrayContaining(['./adapters/kubernetes-adapters.js', './adapters/route53-weighted-pair.js']));
    expect(importsOf(join(SRC, 'adapters/kubernetes-adapters.ts'))).toEqual(['./kubernetes-client.js', './kubernetes-cron-placement.js', './deployment-version-source.js']);
  });

  it('core/ imports nothing outside core/: no other layer, no package, no Node built-in', () => {
    expect(graph.some((g) => g.layer === 'core')).toBe(true);
    expect(offences('core', () => false)).toEqual([]);
  });

  it('queue/ reaches people only through the ports of core/: nothing from slack/ or web/', () => {
    expect(offences('queue', (u) => !['slack', 'web'].includes(u))).toEqual([]);
  });

  it('adapters/ and store/ depend on core/ and the config only', () => {
    const allowed = (u: string) => u === 'core' || u === 'config' || u.startsWith('package ');
    expect(offences('adapters', allowed)).toEqual([]);
    expect(offences('store', allowed)).toEqual([]);
  });
});
