import { defineConfig } from 'vitest/config';
import { QUICK_START_JVM_FLAGS } from './local/dynamodb/jvm-flags.js';

/**
 * DynamoDB Local is a JVM that lives for one test file, so its start-up is most of what it costs; on a
 * 2-core machine CPU is what the suite waits for. `quickStart`'s flags (C1 JIT only, serial GC, no
 * hsperfdata; see local/dynamodb/jvm-flags.ts) start it, create the tables and serve the tests with about
 * 40% less CPU than the defaults. (Every JVM startDynamoDBLocal starts also maps its classes from the
 * class-data archive, local/dynamodb/class-data-sharing.ts: these flags are part of that archive's name.) They go through JAVA_TOOL_OPTIONS so that every JVM a test starts, directly or from a
 * child process (fuzz, bench pieces), gets them. Options already in JAVA_TOOL_OPTIONS come last, so they win.
 */
const TEST_JVM_OPTIONS = [...QUICK_START_JVM_FLAGS, process.env.JAVA_TOOL_OPTIONS].filter(Boolean).join(' ');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One directory per run for reusable function bundles (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // A worker's files share one module graph, so graphql, the AWS SDK and CDKTF load once per worker rather
    // than once per file; test/support/file-isolation.ts puts back what a file changed (environment, spies).
    isolate: false,
    setupFiles: ['test/support/file-isolation.ts'],
    env: { JAVA_TOOL_OPTIONS: TEST_JVM_OPTIONS },
    // Integration suites start real DynamoDB Local (JVM) processes; keep the
    // number of simultaneous JVMs bounded on a 2-core machine.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
