import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { environmentNames, environments, resourcePrefix, validateEnvironment, type EnvironmentConfig } from './config.js';
import { Api } from './constructs/api.js';
import { AccountContext } from './constructs/account.js';
import { CodeSigning } from './constructs/code-signing.js';
import { CustomDomain } from './constructs/domain.js';
import { Functions } from './constructs/functions.js';
import { Cache } from './constructs/cache.js';
import { Events } from './constructs/events.js';
import { Network } from './constructs/network.js';
import { Observability } from './constructs/observability.js';
import { Tables } from './constructs/tables.js';
import { Waf } from './constructs/waf.js';
import { defaultDeclarations, stackRoutes, type StackDeclarations } from './declarations.js';
import type { FunctionArtifact } from './lib/artifacts.js';
import type { TableName } from '../declarations/tables.js';
import { apiLimitsOf } from '../declarations/api.js';

export interface StorefrontStackProps {
  readonly config: EnvironmentConfig;
  readonly artifacts: readonly FunctionArtifact[];
  /** Defaults to the project's declarations; tests pass modified copies. */
  readonly declarations?: StackDeclarations;
}

/** One deployment of the storefront: tables, functions and the API, all derived from the declarations. */
export class StorefrontStack extends TerraformStack {
  readonly tables: Tables;
  readonly functions: Functions;
  /** Present unless `config.cache` is `none`. */
  readonly network?: Network;
  readonly cache?: Cache;
  readonly api: Api;
  /** Present when `config.waf` is set. */
  readonly waf?: Waf;
  /** Present when `config.codeSigning` is set. */
  readonly codeSigning?: CodeSigning;
  /** Present when `config.domain` is set. */
  readonly domain?: CustomDomain;
  readonly events: Events;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: StorefrontStackProps) {
    super(scope, id);
    const { config } = props;
    validateEnvironment(config);
    const declarations = props.declarations ?? defaultDeclarations();
    const routes = stackRoutes(declarations);
    const prefix = resourcePrefix(declarations.api.name, config);

    const defaultTags = { project: declarations.api.name, environment: config.name, 'managed-by': 'cdktf' };
    new AwsProvider(this, 'aws', { region: config.region, defaultTags: [{ tags: defaultTags }] });
    configureBackend(this, config);

    const account = new AccountContext(this, 'account', config.region);
    this.tables = new Tables(this, 'tables', {
      account,
      prefix,
      declarations: declarations.tables,
      deletionProtection: config.deletionProtection,
    });
    const cacheConfig = config.cache;
    if (cacheConfig.kind !== 'none') {
      this.network = new Network(this, 'network', {
        account,
        prefix,
        region: config.region,
        logRetentionDays: config.logRetentionDays,
        protectFromDeletion: config.deletionProtection,
        // Only the replication group's AUTH token lives in Secrets Manager.
        secretsManagerEndpoint: cacheConfig.kind === 'elasticache' && cacheConfig.mode === 'replication-group',
      });
      this.cache = new Cache(this, 'cache', {
        account,
        prefix,
        config: cacheConfig,
        network: this.network,
        protectFromDeletion: config.deletionProtection,
        cachedTables: (Object.keys(declarations.tables) as TableName[]).flatMap((name) => {
          const policy = declarations.tables[name].cache;
          return policy ? [{ table: this.tables.tables[name], maxStalenessMs: policy.maxStalenessMs }] : [];
        }),
      });
    }
    if (config.codeSigning) this.codeSigning = new CodeSigning(this, 'code-signing', { prefix, config: config.codeSigning });
    this.functions = new Functions(this, 'functions', {
      account,
      prefix,
      config,
      declarations: declarations.functions,
      artifacts: props.artifacts,
      tables: this.tables,
      ...(this.network && this.cache ? { cache: { network: this.network, access: this.cache.access } } : {}),
      ...(this.codeSigning ? { codeSigningConfigArn: this.codeSigning.arn } : {}),
    });
    this.api = new Api(this, 'api', {
      account,
      prefix,
      config,
      declaration: declarations.api,
      schemaSDL: declarations.schemaSDL,
      routes,
      functions: this.functions.functions,
    });
    if (config.domain) {
      this.domain = new CustomDomain(this, 'domain', { prefix, config: config.domain, apiId: this.api.api.id, defaultTags });
    }
    if (config.waf) {
      this.waf = new Waf(this, 'waf', {
        prefix,
        config: config.waf,
        apiArn: this.api.api.arn,
        maxRequestBytes: apiLimitsOf(declarations.api).maxRequestBytes,
      });
    }
    this.events = new Events(this, 'events', {
      account,
      prefix,
      region: config.region,
      protectFromDeletion: config.deletionProtection,
      declarations: declarations.functions,
      tableDeclarations: declarations.tables,
      functions: this.functions.functions,
      tables: this.tables,
    });
    this.observability = new Observability(this, 'observability', {
      account,
      prefix,
      config,
      functions: [...this.functions.functions.values()].map((fn) => ({
        name: fn.name,
        physicalName: fn.physicalName,
        timeoutSeconds: declarations.functions[fn.name]?.timeoutSeconds ?? 0,
      })),
      api: { id: this.api.api.id, name: prefix },
      ...(this.waf ? { webAcl: { name: this.waf.name } } : {}),
      tables: Object.values(this.tables.tables),
      // Every dead-letter queue: a depth alarm and its dashboard graphs.
      queues: this.events.deadLetterQueues,
    });
  }
}

function configureBackend(stack: TerraformStack, config: EnvironmentConfig): void {
  const backend = config.backend;
  switch (backend.kind) {
    case 'local':
      // Relative to cdktf.out/stacks/<stack>, where Terraform runs: the state lands
      // in the project root (outside the regenerated cdktf.out) and the path is the
      // same on every machine, unlike CDKTF's absolute default.
      new LocalBackend(stack, { path: `../../../terraform.${stack.node.id}.tfstate` });
      return;
    case 's3':
      new S3Backend(stack, {
        bucket: backend.bucket,
        key: backend.key,
        region: backend.region,
        encrypt: true,
        ...(backend.kmsKeyId ? { kmsKeyId: backend.kmsKeyId } : {}),
        ...(backend.dynamodbTable ? { dynamodbTable: backend.dynamodbTable } : {}),
      });
      // S3's native lock file (Terraform 1.10+). CDKTF 0.21's S3Backend has no property for it.
      stack.addOverride('terraform.backend.s3.use_lockfile', true);
      stack.addOverride('terraform.required_version', '>= 1.10.0');
      return;
  }
}

export interface CreateStacksOptions {
  readonly artifacts: readonly FunctionArtifact[];
  readonly environments?: readonly EnvironmentConfig[];
  readonly declarations?: StackDeclarations;
}

/** The dev, staging and prod stacks: one definition, differing only by their EnvironmentConfig. */
export function createStorefrontStacks(app: Construct, options: CreateStacksOptions): StorefrontStack[] {
  const configs = options.environments ?? environmentNames.map((name) => environments[name]);
  const declarations = options.declarations ?? defaultDeclarations();
  return configs.map((config) => new StorefrontStack(app, config.name, { config, artifacts: options.artifacts, declarations }));
}
