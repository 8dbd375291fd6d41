import { defineConfig } from 'vitest/config';
import { containerEnv } from './test/kit/container-env.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    env: containerEnv(),
    // Integration tests start containers and JVMs on a 2-core machine: keep parallelism modest.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/kit/summary-reporter.ts'],
  },
});
