import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources and the addon in build/Release (npm install builds
// it). Suites under tests/kernels/ run once per SIMD level (AXON_SIMD is read when the addon
// loads; on a CPU without a level the addon falls back to the best it has).
const levels = ['scalar', 'avx2', 'avx512'];

export default defineConfig({
  // The examples import 'axon-nn' as users do; the package's `axon-source` export condition
  // points that at src/ (tests/run-example.ts does the same for examples run as scripts).
  ssr: { resolve: { conditions: ['axon-source'] } },
  resolve: { conditions: ['axon-source'] },
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['tests/**/*.test.ts'], exclude: ['tests/kernels/**'] },
      },
      ...levels.map((isa) => ({
        extends: true as const,
        test: { name: `kernels-${isa}`, include: ['tests/kernels/**/*.test.ts'], env: { AXON_SIMD: isa } },
      })),
    ],
  },
});
