import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Checks of what the whole suite did; scripts/test.sh runs them after it (vitest.after-suite.config.ts).
    exclude: [...configDefaults.exclude, 'test/after-suite/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and e2e files each start their own redis-server and stand-ins on free ports,
    // so files may run in parallel; two cores make more workers pointless.
    maxWorkers: 2,
    pool: 'forks',
  },
});
