/**
 * JVM flags for a DynamoDB Local that should answer soon rather than run fast for long: only the C1 JIT
 * compiler (no C2 compiler threads) and the serial GC (one GC thread), so nothing competes for the CPU
 * while thousands of classes load. `quickStart` in ./dynamodb-local.ts (which `npm run dev` turns on)
 * and the test suite (vitest.config.ts) both use these.
 */
export const QUICK_START_JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] as const;
