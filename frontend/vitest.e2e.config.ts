import { defineConfig } from 'vitest/config';

// Browser end-to-end tests against the real stack (no mocks): see README.md, "End-to-end tests".
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.test.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    // One story in order: later steps need the product the earlier ones made.
    sequence: { concurrent: false },
    // JUNIT_DIR (an absolute path; the Jenkinsfile sets it): a JUnit report beside the usual output.
    reporters: process.env.JUNIT_DIR ? ['verbose', 'junit'] : ['verbose'],
    // E2E_STORY names the story run (scripts/e2e-browser.sh runs them one after the other).
    outputFile: process.env.JUNIT_DIR
      ? { junit: `${process.env.JUNIT_DIR}/browser-${process.env.E2E_STORY ?? 'all'}.xml` }
      : undefined,
  },
});
