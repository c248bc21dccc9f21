// `npm run build`: src/ bundled into dist/ by esbuild (types are checked by `npm run typecheck`).
//
// Why a bundle rather than tsc's one file per module: Node resolves and reads ~1,500 files to
// start the unbundled bot, which took longer than everything else in start-up together (spawn to
// /readyz 0.8 s against 0.35 s for a bare Bolt app), and each module costs memory of its own.
// `splitting` keeps what is imported dynamically in chunks of its own, so the Kubernetes client
// (src/adapters/kubernetes-adapters.ts) is read only by a bot with cron jobs or Deployment version
// sources. Whitespace and syntax are minified but names are not, so stack traces still name
// functions; dist/*.map maps them back to src/ under `node --enable-source-maps`.
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.11',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // CommonJS dependencies bundled into an ES module still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __strangler_createRequire } from 'node:module'; const require = __strangler_createRequire(import.meta.url);" },
  logLevel: 'warning',
  // A native addon (a .node binary per platform) cannot be bundled: it stays a package, which
  // the image ships in node_modules/@napi-rs. It is only imported when a report is made.
  external: ['@napi-rs/canvas'],
});

// The CLI CI runs (`npx strangler wait-for-version …`): its own single file of node built-ins and
// src/cli, with nothing of the bot, so it starts at once and can be copied out of the image alone.
// esbuild keeps the entry's `#!/usr/bin/env node` line.
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.11',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
chmodSync(`${root}/dist/cli.mjs`, 0o755);
