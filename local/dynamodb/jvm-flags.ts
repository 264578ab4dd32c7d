/**
 * JVM flags for a DynamoDB Local that should answer soon rather than run fast for long: only the C1 JIT
 * compiler (no C2 compiler threads), the serial GC (one GC thread), and no hsperfdata file (the shared
 * memory `jps`/`jstat` read, written on every start: about 0.9× the start's CPU without it; `jcmd <pid>`
 * still works), so nothing competes for the CPU while thousands of classes load. `quickStart` in
 * ./dynamodb-local.ts (which `npm run dev` turns on) and the test suite (vitest.config.ts) both use these.
 * Class-data sharing, which every start gets, is in ./class-data-sharing.ts.
 */
export const QUICK_START_JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-UsePerfData'] as const;

/**
 * DynamoDB Local logs through log4j 2. Its log4j2.xml sends its own loggers nowhere and everything else
 * (Jetty, sqlite4java) at WARN to stdout, yet starting log4j-core to do so (XML configuration, plugin
 * registry) took about 130 ms of every JVM start here (medians 766–959 ms against 927–1,074 ms, alternating
 * runs). log4j-api's SimpleLogger needs no start-up: it prints ERROR and above, to stderr, which a client
 * error (a ValidationException, a missing table) does not produce, so the output stays as quiet as before
 * and a real fault still shows. Every start gets these, whatever else it asks for.
 */
export const LOGGING_JVM_FLAGS = [
  '-Dlog4j2.loggerContextFactory=org.apache.logging.log4j.simple.SimpleLoggerContextFactory',
  '-Dorg.apache.logging.log4j.simplelog.level=ERROR',
] as const;
