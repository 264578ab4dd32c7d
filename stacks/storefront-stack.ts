import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { environmentNames, environments, resourcePrefix, validateEnvironment, type EnvironmentConfig } from './config.js';
import { Api } from './constructs/api.js';
import { AccountContext } from './constructs/account.js';
import { Functions } from './constructs/functions.js';
import { Observability } from './constructs/observability.js';
import { Tables } from './constructs/tables.js';
import { defaultDeclarations, stackRoutes, type StackDeclarations } from './declarations.js';
import type { FunctionArtifact } from './lib/artifacts.js';

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
  readonly api: Api;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: StorefrontStackProps) {
    super(scope, id);
    const { config } = props;
    validateEnvironment(config);
    const declarations = props.declarations ?? defaultDeclarations();
    const routes = stackRoutes(declarations);
    const prefix = resourcePrefix(declarations.api.name, config);

    new AwsProvider(this, 'aws', {
      region: config.region,
      defaultTags: [{ tags: { project: declarations.api.name, environment: config.name, 'managed-by': 'cdktf' } }],
    });
    configureBackend(this, config);

    const account = new AccountContext(this, 'account', config.region);
    this.tables = new Tables(this, 'tables', {
      account,
      prefix,
      declarations: declarations.tables,
      deletionProtection: config.deletionProtection,
    });
    this.functions = new Functions(this, 'functions', {
      account,
      prefix,
      config,
      declarations: declarations.functions,
      artifacts: props.artifacts,
      tables: this.tables,
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
      tables: Object.values(this.tables.tables),
      // Dead-letter queues go here as the stack gains them (e.g. `{ name, queueName: queue.name }`).
      queues: [],
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
        dynamodbTable: backend.dynamodbTable,
        encrypt: true,
      });
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
