import { defineConfig } from 'vitest/config';

// Checks of what the whole suite did (e.g. the API permissions it used), run by scripts/test.sh
// once `vitest run` has finished: vitest gives no way to order one file after all the others.
export default defineConfig({
  test: {
    include: ['test/after-suite/**/*.test.ts'],
  },
});
