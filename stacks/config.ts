import { tables } from '../declarations/tables.js';
import type { FunctionKind, FunctionName } from '../declarations/functions.js';

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
  /**
   * `4XXError` as a percentage of `Requests`. AppSync publishes no throttle
   * metric of its own: a request refused for lack of tokens is a 4XX, so this
   * alarm covers throttling along with bad keys and invalid queries.
   */
  readonly appsyncClientErrorRatePercent: number;
  /** Real-time: `ConnectClientError` + `ConnectServerError` (refused or failed WebSocket connects). */
  readonly appsyncConnectErrors: number;
  /** Real-time: `PublishDataMessageClientError` + `PublishDataMessageServerError` (subscription messages not delivered). */
  readonly appsyncPublishErrors: number;
  /** WAF `BlockedRequests` over every rule of the web ACL (environments with `waf` only). */
  readonly wafBlockedRequests: number;
}

/** A WAF rate-based rule: more than `limit` requests in `windowSeconds` blocks the key until its rate drops. */
export interface RateLimit {
  /** WAF accepts 10 to 2,000,000,000. */
  readonly limit: number;
  /** The evaluation window WAF looks back over; it accepts exactly these. */
  readonly windowSeconds: 60 | 120 | 300 | 600;
}

/**
 * The web ACL in front of the API (stacks/constructs/waf.ts). The default auth
 * mode is an API key every frontend ships, so without these limits one script
 * can run up unbounded Lambda and DynamoDB spend.
 */
export interface WafConfig {
  /** Per client IP, every request whatever its auth. */
  readonly perIp: RateLimit;
  /** Per value of the `x-api-key` header (requests without one are not counted here). */
  readonly perApiKey: RateLimit;
}

/**
 * AppSync enhanced metrics (`enhanced_metrics_config`): per-resolver,
 * per-data-source and per-operation series, billed as custom metrics. Only the
 * `FULL_REQUEST_*` behaviours (every resolver, every data source): AppSync's
 * `PER_*` ones emit only for resolvers and data sources whose `metricsConfig`
 * is `ENABLED`, which `aws_appsync_resolver` / `aws_appsync_datasource` of the
 * pinned provider (6.25) cannot set, so they would emit nothing.
 */
export interface EnhancedMetricsConfig {
  readonly resolver: 'FULL_REQUEST_RESOLVER_METRICS';
  readonly dataSource: 'FULL_REQUEST_DATA_SOURCE_METRICS';
  /** Requests and GraphQL errors per named operation. */
  readonly operation: 'ENABLED' | 'DISABLED';
}

/**
 * Reserved concurrency for every function (README "Reserved concurrency"), so
 * one hot function cannot take the account's whole concurrency from the
 * others, nor fan out into more parallel DynamoDB writers than planned.
 */
export interface ConcurrencyBudget {
  /**
   * The account's "Concurrent executions" quota in this region (Service Quotas;
   * 1,000 unless raised). Lambda keeps 100 of it unreserved, so the reserved
   * sum must stay at or below `accountLimit - 100`; synth refuses otherwise.
   */
  readonly accountLimit: number;
  /**
   * Reserved concurrency by function kind, for functions whose declaration and
   * `concurrency` entry set none. A stream function gets `stream` per declared
   * event source: its mappings run one batch per shard at a time.
   */
  readonly perKind: Readonly<Record<FunctionKind, number>>;
}

/**
 * Lambda code signing: an AWS Signer profile (platform AWSLambda-SHA384-ECDSA)
 * and a code signing config on every function. `Warn` deploys an unsigned or
 * foreign-signed package and logs it (CloudWatch metric, CloudTrail); `Enforce`
 * refuses it. The packages are zipped locally by `npm run synth`, so `Enforce`
 * needs the deploy pipeline to sign them first (a Signer signing job) and deploy
 * the signed objects.
 */
export interface CodeSigningConfig {
  readonly untrustedArtifactOnDeployment: 'Warn' | 'Enforce';
}

/**
 * Canary release of one function through its `live` alias: `weight` (0..1,
 * exclusive) of invocations go to the version this apply publishes, the rest
 * stay on `stable_version`, a Terraform variable (stacks/constructs/canary.ts).
 */
export interface CanaryConfig {
  readonly weight: number;
}

/**
 * The API under a name of our own (stacks/constructs/domain.ts): an ACM
 * certificate in us-east-1, DNS-validated in the hosted zone, the AppSync
 * domain name and its association, and an alias record. The zone must be a
 * public Route 53 zone of the deploying account that holds `domainName`.
 */
export interface CustomDomainConfig {
  /** A fully qualified name, e.g. `api.example.com` (no wildcard: AppSync serves one name per domain). */
  readonly domainName: string;
  /** The Route 53 hosted zone's id, e.g. `Z0123456789ABCDEFGHIJ`. */
  readonly hostedZoneId: string;
}

export type FieldLogLevel = 'NONE' | 'ERROR' | 'INFO' | 'DEBUG' | 'ALL';

/**
 * AppSync's own response cache (stacks/constructs/api-cache.ts). Off by
 * default: the Redis/DAX read cache already serves hot items coherently, while
 * AppSync's cache is only expired by TTL (or a mutation's eviction), so every
 * TTL must stay within the products' declared staleness bound.
 * `PER_RESOLVER_CACHING` caches exactly the fields that declare `cachingConfig`
 * (declarations/functions.ts), with their TTL and keys; `FULL_REQUEST_CACHING`
 * every resolver and `OPERATION_LEVEL_CACHING` whole query responses, both for
 * `ttlSeconds`.
 */
export interface AppSyncCacheConfig {
  readonly type: 'SMALL' | 'MEDIUM' | 'LARGE' | 'XLARGE' | 'LARGE_2X' | 'LARGE_4X' | 'LARGE_8X' | 'LARGE_12X';
  readonly behavior: 'FULL_REQUEST_CACHING' | 'PER_RESOLVER_CACHING' | 'OPERATION_LEVEL_CACHING';
  /** The entries' lifetime under the FULL_REQUEST and OPERATION_LEVEL behaviours (a per-resolver field states its own). */
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
  /** Absent = AppSync's standard metrics only. */
  readonly enhancedMetrics?: EnhancedMetricsConfig;
  /** The identity provider of the OPENID_CONNECT mode; required when declarations/api.ts declares that mode. */
  readonly openIdConnect?: OpenIdConnectSettings;
}

/**
 * Where staff tokens of the OPENID_CONNECT mode come from in one environment
 * (its token lifetimes are declared once, in declarations/api.ts). Each
 * environment is its own app registration at the company's identity provider
 * (Okta, Entra ID, Auth0…), so a dev token is refused by prod.
 */
export interface OpenIdConnectSettings {
  /**
   * The provider's issuer, exactly the `iss` of its tokens and the base of its
   * discovery document (`<issuer>/.well-known/openid-configuration`, which
   * AppSync fetches): `https://`, no query or fragment, e.g.
   * `https://login.microsoftonline.com/<tenant>/v2.0` or `https://<org>.okta.com/oauth2/default`.
   */
  readonly issuer: string;
  /**
   * The app registration's client id, which AppSync matches against the
   * token's `aud` as a regular expression: a token the same provider issued
   * to another app is refused. Write the id itself (letters, digits, `-`, `_`,
   * `.` and `:` escaped as needed), or an anchored alternation of ids.
   */
  readonly clientId: string;
}

export type BackendConfig =
  | { readonly kind: 'local' }
  | {
      /**
       * Encrypted S3 state with S3's native locking (`use_lockfile`, Terraform
       * 1.10 or later): a `<key>.tflock` object next to the state, so two applies
       * cannot interleave. The bucket is made once by hand (stacks/README.md, "State").
       */
      readonly kind: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly region: string;
      /** A KMS key for the state object instead of the bucket's default encryption. */
      readonly kmsKeyId?: string;
      /**
       * Deprecated DynamoDB lock table (partition key `LockID`): only while
       * moving a backend that used one to the lock file; both locks are taken.
       */
      readonly dynamodbTable?: string;
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
  /** A WAF web ACL on the API; absent = none. */
  readonly waf?: WafConfig;
  /** Reserved concurrency for every function; absent = only where a declaration or `concurrency` sets it. */
  readonly reservedConcurrency?: ConcurrencyBudget;
  /** Code signing on every function; absent = none. */
  readonly codeSigning?: CodeSigningConfig;
  /** A custom domain for the API; absent = AppSync's generated endpoints only. */
  readonly domain?: CustomDomainConfig;
}

/**
 * Remote state of staging and prod: one bucket, one key per environment. The
 * bucket name is global across AWS: set your own, then bootstrap it once
 * (stacks/README.md, "State").
 */
const stateBucket = { bucket: 'storefront-terraform-state', region: 'eu-west-1' } as const;

const apiDefaults = {
  apiKeyIssuedOn: '2026-11-24',
} as const satisfies Partial<ApiSettings>;

/**
 * The staff identity provider (README "Staff sign-in"): one tenant, one app
 * registration per environment. Like the state bucket, set your own before the
 * first deploy: these name the company's Entra ID tenant and its apps.
 */
const staffIdentityProvider = 'https://login.microsoftonline.com/5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f/v2.0';

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
      appsyncClientErrorRatePercent: 25,
      appsyncConnectErrors: 50,
      appsyncPublishErrors: 10,
      wafBlockedRequests: 1000,
    },
    api: {
      ...apiDefaults,
      fieldLogLevel: 'ALL',
      openIdConnect: { issuer: staffIdentityProvider, clientId: '3c9a7e51-0d2b-4f6a-9b1c-5e8d2a4f7c01' },
    },
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
      appsyncClientErrorRatePercent: 10,
      appsyncConnectErrors: 20,
      appsyncPublishErrors: 5,
      wafBlockedRequests: 500,
    },
    // Per-resolver caching (Query.product) is tried here first: staging runs the same Valkey cache as prod, so it
    // shows what the AppSync cache adds on top and that the product mutations' evictions work, before prod pays for it.
    api: {
      ...apiDefaults,
      fieldLogLevel: 'ERROR',
      cache: { type: 'SMALL', behavior: 'PER_RESOLVER_CACHING', ttlSeconds: 5 },
      openIdConnect: { issuer: staffIdentityProvider, clientId: '8e2b4d6f-1a3c-4e5b-9d7f-0c2e4a6b8d13' },
    },
    backend: { kind: 's3', ...stateBucket, key: 'storefront/staging/terraform.tfstate' },
    // Same kind of cache as prod, so staging exercises the VPC and TLS paths; small caps.
    cache: { kind: 'elasticache', mode: 'serverless', maxDataStorageGb: 1, maxEcpuPerSecond: 5000 },
    // Lower limits than prod: load tests should find the edge before customers do.
    waf: { perIp: { limit: 1000, windowSeconds: 300 }, perApiKey: { limit: 5000, windowSeconds: 300 } },
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
      // Clients with expired tokens and bad queries always make some 4XX: alarm on a share, not a count.
      appsyncClientErrorRatePercent: 5,
      appsyncConnectErrors: 10,
      appsyncPublishErrors: 1,
      wafBlockedRequests: 200,
    },
    // The schema is not a public document: production clients use generated operations.
    api: {
      ...apiDefaults,
      fieldLogLevel: 'ERROR',
      introspection: false,
      enhancedMetrics: {
        resolver: 'FULL_REQUEST_RESOLVER_METRICS',
        dataSource: 'FULL_REQUEST_DATA_SOURCE_METRICS',
        operation: 'ENABLED',
      },
      openIdConnect: { issuer: staffIdentityProvider, clientId: 'b41f6a2c-7e9d-4b3a-8c5e-2d1f0a9b7e25' },
    },
    backend: { kind: 's3', ...stateBucket, key: 'storefront/prod/terraform.tfstate' },
    // Serverless Valkey: no node sizing to get wrong, TLS and encryption at rest always on, pay per use.
    cache: { kind: 'elasticache', mode: 'serverless', maxDataStorageGb: 5, maxEcpuPerSecond: 50_000 },
    // One IP: 2,000 requests in 5 minutes is ~7/s sustained, far above a shopper, below a scraper.
    // One API key is shared by every web client, so its limit is the whole frontend's traffic.
    waf: { perIp: { limit: 2000, windowSeconds: 300 }, perApiKey: { limit: 100_000, windowSeconds: 300 } },
    // 3 resolvers x 200 + authorizer 50 + stream 2 sources x 10 = 670, within 1,000 - 100 unreserved.
    reservedConcurrency: { accountLimit: 1000, perKind: { resolver: 200, authorizer: 50, stream: 10 } },
    // Warn until the deploy workflow signs the packages (stacks/README.md, "Code signing").
    codeSigning: { untrustedArtifactOnDeployment: 'Warn' },
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
  if (apiCache && !APPSYNC_CACHE_BEHAVIORS.includes(apiCache.behavior))
    problems.push(`api.cache.behavior must be one of ${APPSYNC_CACHE_BEHAVIORS.join(', ')}, not ${apiCache.behavior}`);
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
  problems.push(...domainProblems(config.domain), ...openIdConnectProblems(config.api.openIdConnect));
  problems.push(...wafProblems(config.waf), ...backendProblems(config.backend), ...budgetProblems(config.reservedConcurrency));
  if (config.codeSigning && !['Warn', 'Enforce'].includes(config.codeSigning.untrustedArtifactOnDeployment))
    problems.push('codeSigning.untrustedArtifactOnDeployment must be Warn or Enforce');
  if (problems.length > 0) throw new Error(`Environment ${config.name}: ${problems.join('; ')}`);
}

const APPSYNC_CACHE_BEHAVIORS: readonly string[] = ['FULL_REQUEST_CACHING', 'PER_RESOLVER_CACHING', 'OPERATION_LEVEL_CACHING'];

/** A DNS name of 2 to 127 labels, lower case (ACM and Route 53 compare names case-insensitively; one spelling keeps plans stable). */
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])$/;

function domainProblems(domain: CustomDomainConfig | undefined): string[] {
  if (!domain) return [];
  const problems: string[] = [];
  if (!DOMAIN_NAME.test(domain.domainName))
    problems.push(
      `domain.domainName ${domain.domainName} is not a lower-case, fully qualified DNS name (e.g. api.example.com; no wildcard)`,
    );
  // Route 53 zone ids are upper-case letters and digits; the console's `/hostedzone/` prefix is not part of the id.
  if (!/^[A-Z0-9]{1,32}$/.test(domain.hostedZoneId))
    problems.push(`domain.hostedZoneId ${domain.hostedZoneId} is not a Route 53 hosted zone id (e.g. Z0123456789ABCDEFGHIJ)`);
  return problems;
}

/**
 * An issuer AppSync can discover and a client id that names one app. Whether
 * the issuer is a real provider (not localhost, not a placeholder) is the
 * policy audit's production rule (test/stacks/support/policy-audit.ts).
 */
function openIdConnectProblems(oidc: OpenIdConnectSettings | undefined): string[] {
  if (!oidc) return [];
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(oidc.issuer);
  } catch {
    problems.push(`api.openIdConnect.issuer ${oidc.issuer} is not a URL`);
  }
  // A trailing / stays allowed: the issuer must equal the provider's `iss` exactly, and Auth0's ends with one.
  if (url && (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== ''))
    problems.push(`api.openIdConnect.issuer ${oidc.issuer} must be https://, without credentials, query or fragment`);
  try {
    // AppSync reads it as a regular expression: one that does not compile would fail at apply time.
    if (new RegExp(`^(?:${oidc.clientId})$`).test(''))
      problems.push(`api.openIdConnect.clientId ${JSON.stringify(oidc.clientId)} accepts an empty audience: name the app's client id`);
  } catch {
    problems.push(`api.openIdConnect.clientId ${oidc.clientId} is not a valid regular expression`);
  }
  return problems;
}

/** WAF's bounds on a rate-based statement (`limit` 10 to 2,000,000,000; windows of 1, 2, 5 or 10 minutes). */
export const WAF_RATE_LIMIT_RANGE = { min: 10, max: 2_000_000_000 } as const;
const WAF_WINDOWS: readonly number[] = [60, 120, 300, 600];

function wafProblems(waf: WafConfig | undefined): string[] {
  if (!waf) return [];
  return (['perIp', 'perApiKey'] as const).flatMap((name) => {
    const { limit, windowSeconds } = waf[name];
    const problems: string[] = [];
    if (!Number.isInteger(limit) || limit < WAF_RATE_LIMIT_RANGE.min || limit > WAF_RATE_LIMIT_RANGE.max)
      problems.push(`waf.${name}.limit must be an integer from ${WAF_RATE_LIMIT_RANGE.min} to ${WAF_RATE_LIMIT_RANGE.max}, not ${limit}`);
    if (!WAF_WINDOWS.includes(windowSeconds)) problems.push(`waf.${name}.windowSeconds must be one of ${WAF_WINDOWS.join(', ')}`);
    return problems;
  });
}

function backendProblems(backend: BackendConfig): string[] {
  if (backend.kind !== 's3') return [];
  const problems: string[] = [];
  // S3's bucket naming rules (general purpose buckets), short of the reserved prefixes.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(backend.bucket) || backend.bucket.includes('..'))
    problems.push(`backend.bucket ${backend.bucket} is not a valid S3 bucket name`);
  if (backend.key.length === 0 || backend.key.startsWith('/') || backend.key.endsWith('/'))
    problems.push(`backend.key ${backend.key} must be an object key (no leading or trailing /)`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(backend.region)) problems.push(`backend.region ${backend.region} is not an AWS region name`);
  return problems;
}

/** Lambda keeps this much of the account's concurrency unreserved; a reservation that eats into it fails. */
export const UNRESERVED_CONCURRENCY_MINIMUM = 100;

function budgetProblems(budget: ConcurrencyBudget | undefined): string[] {
  if (!budget) return [];
  const problems: string[] = [];
  if (!Number.isInteger(budget.accountLimit) || budget.accountLimit <= UNRESERVED_CONCURRENCY_MINIMUM)
    problems.push(`reservedConcurrency.accountLimit must be an integer above ${UNRESERVED_CONCURRENCY_MINIMUM}`);
  for (const [kind, value] of Object.entries(budget.perKind)) {
    // 0 would be a kill switch (the function never runs), not a size.
    if (!Number.isInteger(value) || value < 1) problems.push(`reservedConcurrency.perKind.${kind} must be a positive integer`);
  }
  return problems;
}
