import { defineConfig } from 'vitest/config';

// One run covers every package and service; the test stack (Postgres, Redis) starts once in the
// global setup and each test file takes its own database from the migrated template.
export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'services/*/src/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    globalSetup: ['vitest.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './infra/vitest-summary-reporter.ts'],
  },
});
