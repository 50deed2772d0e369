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
    },
  }),
);
