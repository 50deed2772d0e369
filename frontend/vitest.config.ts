import { defineConfig, mergeConfig } from 'vitest/config';
import viteConfig from './vite.config.ts';

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      environment: 'jsdom',
      include: ['src/**/*.test.{ts,tsx}'],
      setupFiles: ['./src/testing/setup.ts'],
      restoreMocks: true,
      clearMocks: true,
      testTimeout: 10_000,
      // JUNIT_DIR (an absolute path; the Jenkinsfile sets it): a JUnit report beside the usual output.
      reporters: process.env.JUNIT_DIR ? ['default', 'junit'] : ['default'],
      outputFile: process.env.JUNIT_DIR ? { junit: `${process.env.JUNIT_DIR}/frontend.xml` } : undefined,
      // `npm run test:coverage` (the test command): line coverage of src/ (V8's), the files
      // not fully covered listed, and a failure below 80 %. Left out: the tests and their
      // helpers (src/testing/), and main.tsx, which only mounts the app into the page (the
      // browser tests run it).
      coverage: {
        provider: 'v8',
        include: ['src/**/*.{ts,tsx}'],
        exclude: ['src/**/*.test.{ts,tsx}', 'src/testing/**', 'src/main.tsx'],
        reporter: [['text', { skipFull: true }], 'text-summary'],
        thresholds: { lines: 80 },
      },
    },
  }),
);
