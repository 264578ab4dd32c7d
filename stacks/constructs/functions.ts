import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { LambdaProvisionedConcurrencyConfig } from '@cdktf/provider-aws/lib/lambda-provisioned-concurrency-config/index.js';
import { AssetType, TerraformAsset, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { functionEnvironment, usesCache } from '../../declarations/function-environment.js';
import type { TableName } from '../../declarations/tables.js';
import type { FunctionKind } from '../../declarations/functions.js';
import type { EnvironmentConfig } from '../config.js';
import type { StackFunctionDeclaration } from '../declarations.js';
import type { FunctionArtifact } from '../lib/artifacts.js';
import { concurrencyPlan } from '../lib/concurrency.js';
import { lambdaVpcAccessActions } from '../policy/allowed-wildcards.js';
import type { AccountContext } from './account.js';
import type { CacheAccess } from './cache.js';
import type { Network } from './network.js';
import { canaryOf, liveAliasTarget } from './canary.js';
import { functionStatements, ServiceRole, streamReadStatements, type TableGrant } from './iam.js';
import { cloudwatchLogsKeyStatement, EncryptionKey } from './keys.js';
import type { Tables } from './tables.js';

export const LIVE_ALIAS = 'live';

export interface FunctionsProps {
  readonly account: AccountContext;
  readonly prefix: string;
  readonly config: EnvironmentConfig;
  readonly declarations: Readonly<Record<string, StackFunctionDeclaration>>;
  readonly artifacts: readonly FunctionArtifact[];
  readonly tables: Tables;
  /** The cache and its network, when the environment has one (`config.cache`). */
  readonly cache?: { readonly network: Network; readonly access: CacheAccess };
  /** A code signing config every function gets (constructs/code-signing.ts), when the environment has one. */
  readonly codeSigningConfigArn?: string;
}

export interface DeployedFunction {
  readonly name: string;
  /** Resolvers get a data source; the authorizer is wired into the API's auth config instead. */
  readonly kind: FunctionKind;
  readonly physicalName: string;
  readonly function: LambdaFunction;
  /** What callers invoke: a published version, so a deploy switches all traffic at once. */
  readonly alias: LambdaAlias;
  /** Its role, so constructs created later (event sources, caches) can grant what they add. */
  readonly role: ServiceRole;
}

/**
 * One Lambda function per function-map entry, each with its own role, its own
 * encrypted log group with retention, and a `live` alias on the version just
 * published (optionally kept warm with provisioned concurrency). Declared
 * parameters become sensitive Terraform variables (`parameterVariableName`),
 * so their values come from whoever applies, never from code or config.
 */
export class Functions extends Construct {
  readonly functions: ReadonlyMap<string, DeployedFunction>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { account, config, declarations } = props;
    const names = Object.keys(declarations);
    const physicalName = (name: string): string => `${props.prefix}-${name}`;
    const logGroupName = (name: string): string => `/aws/lambda/${physicalName(name)}`;

    const logsKey = new EncryptionKey(this, 'logs-key', {
      account,
      alias: `${props.prefix}-function-logs`,
      description: `CloudWatch Logs of the ${props.prefix} Lambda functions`,
      protectFromDeletion: config.deletionProtection,
      // Built from names, not from the log groups, which themselves depend on this key.
      statements: [
        cloudwatchLogsKeyStatement(
          account,
          names.map((name) => account.logGroupArn(logGroupName(name))),
        ),
      ],
    });

    const artifacts = new Map(props.artifacts.map((artifact) => [artifact.name, artifact]));
    // Checked for every function at once: the reserved sum must fit the account's quota.
    const concurrency = concurrencyPlan(declarations, config);
    const deployed = new Map<string, DeployedFunction>();
    for (const name of names) {
      const declaration = declarations[name];
      const artifact = artifacts.get(name);
      if (!declaration) continue;
      if (!artifact) throw new Error(`No deployment package was built for function ${name}`);
      const functionScope = new Construct(this, name);

      const logGroup = new CloudwatchLogGroup(functionScope, 'log-group', {
        name: logGroupName(name),
        retentionInDays: config.logRetentionDays,
        kmsKeyId: logsKey.arn,
      });

      const grants: TableGrant[] = (Object.entries(declaration.tables) as [TableName, TableGrant['access'] | undefined][])
        .filter((entry): entry is [TableName, TableGrant['access']] => entry[1] !== undefined)
        .map(([table, access]) => ({ table: props.tables.tables[table], access }));
      const role = new ServiceRole(functionScope, 'role', {
        roleName: `${physicalName(name)}-function`,
        description: `Lambda function ${physicalName(name)}`,
        service: 'lambda.amazonaws.com',
        statements: functionStatements({ grants, logGroupArn: logGroup.arn, region: config.region }),
      });
      // A stream function also reads its event sources' streams (the mappings themselves come with the DLQs).
      if (declaration.kind === 'stream') {
        role.addStatements(streamReadStatements(declaration.eventSources.map((source) => props.tables.tables[source.table])));
      }

      // Only functions that read a cached table join the VPC: the others keep their direct path to AWS.
      const cache = props.cache && usesCache(declaration) ? props.cache : undefined;
      if (cache) {
        role.addStatements([
          { Sid: 'VpcNetworkInterfaces', Effect: 'Allow', Action: lambdaVpcAccessActions, Resource: '*' },
          ...cache.access.statements,
        ]);
      }

      // Cache endpoints go through the same parameter mechanism as declared parameters;
      // functionEnvironment takes them only for functions that use a cached table.
      const parameterValues: Record<string, string> = { ...cache?.access.environment };
      for (const [parameter, { description }] of Object.entries(declaration.parameters ?? {})) {
        const variable = new TerraformVariable(functionScope, parameter, {
          type: 'string',
          description,
          sensitive: true,
          nullable: false,
          // Empty rather than required: a deployment without values still plans, and the function fails closed.
          default: '',
        });
        // A plain name: deployers set it as TF_VAR_<name> or -var <name>=…
        variable.overrideLogicalId(parameterVariableName(name, parameter));
        parameterValues[parameter] = variable.stringValue;
      }

      const { reserved, provisioned } = concurrency.get(name) ?? {};
      const packageAsset = new TerraformAsset(functionScope, 'package', { path: artifact.zipFile, type: AssetType.FILE });
      const fn = new LambdaFunction(functionScope, 'function', {
        functionName: physicalName(name),
        description: declaration.description,
        role: role.arn,
        filename: packageAsset.path,
        sourceCodeHash: artifact.sourceCodeHash,
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler: 'index.handler',
        memorySize: declaration.memoryMb,
        timeout: declaration.timeoutSeconds,
        publish: true,
        reservedConcurrentExecutions: reserved,
        codeSigningConfigArn: props.codeSigningConfigArn,
        environment: {
          variables: {
            // No NODE_OPTIONS=--enable-source-maps: the zips hold no source maps (README "Function artifacts").
            ...functionEnvironment(name, declaration, props.tables.physicalNames, parameterValues),
          },
        },
        loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name, applicationLogLevel: 'INFO', systemLogLevel: 'WARN' },
        tracingConfig: { mode: 'Active' },
        ...(cache
          ? { vpcConfig: { subnetIds: [...cache.network.subnetIds], securityGroupIds: [cache.network.functionsSecurityGroup.id] } }
          : {}),
        // Provisioned environments start at once and must be able to log and reach their tables.
        dependsOn: [role.policy],
      });
      const alias = new LambdaAlias(functionScope, LIVE_ALIAS, {
        name: LIVE_ALIAS,
        description: 'The version AppSync invokes',
        functionName: fn.functionName,
        // The version just published, or a stable version plus the new one when a canary is configured.
        ...liveAliasTarget(functionScope, name, fn, canaryOf(config, name)),
      });
      if (provisioned !== undefined) {
        new LambdaProvisionedConcurrencyConfig(functionScope, 'provisioned', {
          functionName: fn.functionName,
          qualifier: alias.name,
          provisionedConcurrentExecutions: provisioned,
        });
      }
      deployed.set(name, { name, kind: declaration.kind, physicalName: physicalName(name), function: fn, alias, role });
    }
    this.functions = deployed;
  }
}

/** The Terraform variable holding a function parameter, e.g. `authorizer_partner_tokens_sha256`. */
export function parameterVariableName(functionName: string, parameter: string): string {
  return `${functionName}_${parameter}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}
