import { defineConfig } from 'vitest/config';

/**
 * DynamoDB Local is a JVM that lives for one test file, so its start-up is most of what it costs; on a
 * 2-core machine CPU is what the suite waits for. The client JIT alone (C1, `TieredStopAtLevel=1`) and the
 * serial collector start it, create the tables and serve the tests with about 40% less CPU than the
 * defaults (C2 compiles hot code the JVM will not live long enough to use; parallel GC threads compete
 * with the tests). Only the tests' JVMs get this: `npm run dev` keeps the defaults. Options already in
 * JAVA_TOOL_OPTIONS come last, so they win.
 */
const TEST_JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', process.env.JAVA_TOOL_OPTIONS].filter(Boolean).join(' ');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One directory per run for reusable function bundles (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    env: { JAVA_TOOL_OPTIONS: TEST_JVM_OPTIONS },
    // Integration suites start real DynamoDB Local (JVM) processes; keep the
    // number of simultaneous JVMs bounded on a 2-core machine.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
