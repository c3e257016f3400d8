import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources and the addon in build/Release (npm install builds
// it). The kernel suites run once per SIMD level via AXON_SIMD in tests/simd-levels.test.ts.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
