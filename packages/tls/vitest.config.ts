import { defineConfig } from 'vitest/config';

// 2 cores: one forked worker per package (turbo runs two packages at a time).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
