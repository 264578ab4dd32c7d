import { tables } from '../declarations/tables.js';
import type { FunctionName } from '../declarations/functions.js';

/**
 * Everything that may differ between deployments of the one stack
 * definition. A value here is a decision per environment; anything that is
 * the same everywhere belongs in the declarations (lib/, resolvers/) instead.
 */

export type EnvironmentName = 'dev' | 'staging' | 'prod';

/** The retention periods CloudWatch Logs accepts; anything else fails at apply time. */
export type LogRetentionDays =
  | 1
  | 3
  | 5
  | 7
  | 14
  | 30
  | 60
  | 90
  | 120
  | 150
  | 180
  | 365
  | 400
  | 545
  | 731
  | 1096
  | 1827
  | 2192
  | 2557
  | 2922
  | 3288
  | 3653;

export interface FunctionConcurrency {
  /** Overrides the declaration's `reservedConcurrency`. */
  readonly reserved?: number;
  /** Pre-initialised environments on the `live` alias; billed while idle. */
  readonly provisioned?: number;
}

/**
 * Alarm thresholds (stacks/constructs/observability.ts); typed here so every
 * environment states them. Counts are per 5-minute period.
 */
export interface AlarmThresholds {
  /** Errors as a percentage of invocations, per function. */
  readonly lambdaErrorRatePercent: number;
  readonly lambdaThrottles: number;
  /** p99 of `Duration`, per function; must stay below every function's timeout. */
  readonly lambdaDurationP99Ms: number;
  readonly appsyncServerErrors: number;
  readonly appsyncLatencyP99Ms: number;
  /** Read plus write throttle events, per table. */
  readonly dynamodbThrottledRequests: number;
}

/**
 * Canary release of one function through its `live` alias: `weight` (0..1,
 * exclusive) of invocations go to the version this apply publishes, the rest
 * stay on `stable_version`, a Terraform variable (stacks/constructs/canary.ts).
 */
export interface CanaryConfig {
  readonly weight: number;
}

export type FieldLogLevel = 'NONE' | 'ERROR' | 'INFO' | 'DEBUG' | 'ALL';

/**
 * AppSync's own response cache. Off by default: the Redis/DAX read cache
 * already serves hot items coherently, while AppSync's cache is only expired
 * by TTL, so its TTL must stay within the products' declared staleness bound.
 */
export interface AppSyncCacheConfig {
  readonly type: 'SMALL' | 'MEDIUM' | 'LARGE' | 'XLARGE' | 'LARGE_2X' | 'LARGE_4X' | 'LARGE_8X' | 'LARGE_12X';
  readonly behavior: 'FULL_REQUEST_CACHING' | 'PER_RESOLVER_CACHING';
  readonly ttlSeconds: number;
}

/**
 * The API's request limits (query depth, resolver count, body size) are not
 * here: they are declared once in declarations/api.ts, which the local runtime enforces.
 */
export interface ApiSettings {
  readonly cache?: AppSyncCacheConfig;
  readonly fieldLogLevel: FieldLogLevel;
  /** Overrides declarations/api.ts's `limits.introspection` for this environment (e.g. off in prod). */
  readonly introspection?: boolean;
  /**
   * The API key expires `apiKeyTtlDays` (declarations/api.ts) after this UTC date.
   * A fixed date rather than "now" keeps synth output stable; rotating the key
   * is a one-line change here. AppSync accepts an expiry 1 to 365 days ahead
   * of the apply, so bump this before the key runs out.
   */
  readonly apiKeyIssuedOn: `${number}-${number}-${number}`;
}

export type BackendConfig =
  | { readonly kind: 'local' }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly region: string;
      /** Lock table (partition key `LockID`), so two applies cannot interleave. */
      readonly dynamodbTable: string;
    };

/**
 * The cache the functions reading a cached table use (README "Caching"). `none`
 * creates no network at all: the functions run outside any VPC, as before.
 * Anything else creates a private VPC (stacks/constructs/network.ts) and puts
 * exactly the cache-using functions in it.
 */
export type CacheConfig =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'elasticache';
      /**
       * `serverless`: scales itself, always TLS and encrypted at rest; access is
       * the security group (no AUTH token). `replication-group`: fixed nodes, a
       * primary and a replica in another AZ, AUTH token from Secrets Manager.
       */
      readonly mode: 'serverless' | 'replication-group';
      /** Replication group only, e.g. `cache.t4g.small`. */
      readonly nodeType?: string;
      /** Serverless only: caps what a runaway workload can cost. */
      readonly maxDataStorageGb?: number;
      readonly maxEcpuPerSecond?: number;
    }
  | {
      readonly kind: 'dax';
      readonly nodeType: string;
      /** Nodes in the cluster; 3 or more spreads them over AZs for availability. */
      readonly replicationFactor: number;
    };

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  readonly region: string;
  readonly logRetentionDays: LogRetentionDays;
  /** Guards tables, the user pool and key deletion against an accidental destroy. */
  readonly deletionProtection: boolean;
  readonly concurrency: Readonly<Partial<Record<FunctionName, FunctionConcurrency>>>;
  readonly alarms: AlarmThresholds;
  /** Subscribed to the alarm topic (SNS sends a confirmation mail first); none = no subscription. */
  readonly alarmEmail?: string;
  /** Functions being released gradually; absent = every alias points at the version just published. */
  readonly canary?: Readonly<Partial<Record<FunctionName, CanaryConfig>>>;
  readonly api: ApiSettings;
  readonly backend: BackendConfig;
  readonly cache: CacheConfig;
}

const apiDefaults = {
  apiKeyIssuedOn: '2026-11-24',
} as const satisfies Partial<ApiSettings>;

export const environments = {
  dev: {
    name: 'dev',
    region: 'eu-west-1',
    logRetentionDays: 14,
    deletionProtection: false,
    concurrency: {},
    alarms: {
      lambdaErrorRatePercent: 10,
      lambdaThrottles: 10,
      lambdaDurationP99Ms: 3000,
      appsyncServerErrors: 10,
      appsyncLatencyP99Ms: 3000,
      dynamodbThrottledRequests: 10,
    },
    api: { ...apiDefaults, fieldLogLevel: 'ALL' },
    backend: { kind: 'local' },
    // No cache in dev: no VPC, no hourly cache charge; the functions read DynamoDB directly.
    cache: { kind: 'none' },
  },
  staging: {
    name: 'staging',
    region: 'eu-west-1',
    logRetentionDays: 30,
    deletionProtection: false,
    concurrency: {},
    alarms: {
      lambdaErrorRatePercent: 5,
      lambdaThrottles: 5,
      lambdaDurationP99Ms: 2000,
      appsyncServerErrors: 5,
      appsyncLatencyP99Ms: 2000,
      dynamodbThrottledRequests: 5,
    },
    api: { ...apiDefaults, fieldLogLevel: 'ERROR' },
    backend: { kind: 'local' },
    // Same kind of cache as prod, so staging exercises the VPC and TLS paths; small caps.
    cache: { kind: 'elasticache', mode: 'serverless', maxDataStorageGb: 1, maxEcpuPerSecond: 5000 },
  },
  prod: {
    name: 'prod',
    region: 'eu-west-1',
    logRetentionDays: 365,
    deletionProtection: true,
    // The catalog serves every product read and the batched order lines: keep it warm.
    concurrency: { catalog: { provisioned: 2 } },
    alarms: {
      lambdaErrorRatePercent: 1,
      lambdaThrottles: 1,
      lambdaDurationP99Ms: 1000,
      appsyncServerErrors: 1,
      appsyncLatencyP99Ms: 1000,
      dynamodbThrottledRequests: 1,
    },
    // The schema is not a public document: production clients use generated operations.
    api: { ...apiDefaults, fieldLogLevel: 'ERROR', introspection: false },
    backend: { kind: 'local' },
    // Serverless Valkey: no node sizing to get wrong, TLS and encryption at rest always on, pay per use.
    cache: { kind: 'elasticache', mode: 'serverless', maxDataStorageGb: 5, maxEcpuPerSecond: 50_000 },
  },
} as const satisfies Record<EnvironmentName, EnvironmentConfig>;

export const environmentNames = Object.keys(environments) as EnvironmentName[];

/** `storefront-dev`: the prefix of every physical name in one deployment. */
export function resourcePrefix(project: string, config: Pick<EnvironmentConfig, 'name'>): string {
  return `${project}-${config.name}`;
}

/** Expiry of the API key: `ttlDays` after the issue date, at midnight UTC, as AppSync's RFC 3339. */
export function apiKeyExpiry(issuedOn: string, ttlDays: number): string {
  const issued = new Date(`${issuedOn}T00:00:00Z`);
  if (Number.isNaN(issued.getTime())) throw new Error(`apiKeyIssuedOn ${issuedOn} is not a YYYY-MM-DD date`);
  if (!Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > 365) throw new Error(`API key TTL must be 1 to 365 days, not ${ttlDays}`);
  return new Date(issued.getTime() + ttlDays * 86_400_000).toISOString().replace('.000Z', 'Z');
}

/** Rejects configurations AWS would only reject at apply time. */
export function validateEnvironment(config: EnvironmentConfig): void {
  const problems: string[] = [];
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(config.region)) problems.push(`region ${config.region} is not an AWS region name`);
  const apiCache = config.api.cache;
  const stalenessSeconds = tables.products.cache.maxStalenessMs / 1000;
  if (apiCache && (!Number.isInteger(apiCache.ttlSeconds) || apiCache.ttlSeconds < 1 || apiCache.ttlSeconds > stalenessSeconds)) {
    problems.push(`api.cache.ttlSeconds must be 1 to ${stalenessSeconds} (the products' declared staleness bound)`);
  }
  for (const [name, concurrency] of Object.entries(config.concurrency) as [string, FunctionConcurrency | undefined][]) {
    const { reserved, provisioned } = concurrency ?? {};
    if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 0))
      problems.push(`${name}: reserved concurrency must be a non-negative integer`);
    if (provisioned !== undefined && (!Number.isInteger(provisioned) || provisioned < 1))
      problems.push(`${name}: provisioned concurrency must be a positive integer`);
  }
  for (const [name, threshold] of Object.entries(config.alarms)) {
    if (!Number.isFinite(threshold) || threshold < 0) problems.push(`alarms.${name} must be a non-negative number`);
  }
  if (config.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(config.alarmEmail))
    problems.push(`alarmEmail ${config.alarmEmail} is not an email address`);
  for (const [name, canary] of Object.entries(config.canary ?? {}) as [string, CanaryConfig | undefined][]) {
    // 0 or 1 would leave one version with no traffic: drop the canary (promote) instead.
    if (canary && !(canary.weight > 0 && canary.weight < 1)) problems.push(`${name}: canary weight must be between 0 and 1 (exclusive)`);
  }
  const cache = config.cache;
  if (
    cache.kind === 'dax' &&
    !(Number.isInteger(cache.replicationFactor) && cache.replicationFactor >= 1 && cache.replicationFactor <= 10)
  ) {
    problems.push('cache.replicationFactor must be 1 to 10');
  }
  if (cache.kind === 'elasticache' && cache.mode === 'replication-group' && !cache.nodeType)
    problems.push('cache.nodeType is required for a replication group');
  if (problems.length > 0) throw new Error(`Environment ${config.name}: ${problems.join('; ')}`);
}
