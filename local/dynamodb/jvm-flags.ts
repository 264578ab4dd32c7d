/**
 * JVM flags for a DynamoDB Local that should answer soon rather than run fast for long: only the C1 JIT
 * compiler (no C2 compiler threads), the serial GC (one GC thread), and no hsperfdata file (the shared
 * memory `jps`/`jstat` read, written on every start: about 0.9× the start's CPU without it; `jcmd <pid>`
 * still works), so nothing competes for the CPU while thousands of classes load. `quickStart` in
 * ./dynamodb-local.ts (which `npm run dev` turns on) and the test suite (vitest.config.ts) both use these.
 * Class-data sharing, which every start gets, is in ./class-data-sharing.ts.
 */
export const QUICK_START_JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-UsePerfData'] as const;
