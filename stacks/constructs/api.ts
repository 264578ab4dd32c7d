import { AppsyncApiKey } from '@cdktf/provider-aws/lib/appsync-api-key/index.js';
import { AppsyncDatasource } from '@cdktf/provider-aws/lib/appsync-datasource/index.js';
import {
  AppsyncGraphqlApi,
  type AppsyncGraphqlApiAdditionalAuthenticationProvider,
} from '@cdktf/provider-aws/lib/appsync-graphql-api/index.js';
import { AppsyncResolver } from '@cdktf/provider-aws/lib/appsync-resolver/index.js';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { CognitoUserGroup } from '@cdktf/provider-aws/lib/cognito-user-group/index.js';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool/index.js';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client/index.js';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { apiLimitsOf, authModes, lambdaAuthorizerOf, openIdConnectOf, type ApiDeclaration, type AuthMode } from '../../declarations/api.js';
import { lambdaResolverCode } from '../appsync/resolver-code.js';
import { apiKeyExpiry, type EnvironmentConfig } from '../config.js';
import type { StackRoute } from '../declarations.js';
import { terraformLiteral } from '../lib/terraform-literal.js';
import { logStreamWriteActions } from '../policy/allowed-wildcards.js';
import type { AccountContext } from './account.js';
import { ApiResponseCache, resolverCachingConfig } from './api-cache.js';
import { LIVE_ALIAS, type DeployedFunction } from './functions.js';
import { ServiceRole } from './iam.js';
import { cloudwatchLogsKeyStatement, EncryptionKey } from './keys.js';

export interface ApiProps {
  readonly account: AccountContext;
  readonly prefix: string;
  readonly config: EnvironmentConfig;
  readonly declaration: ApiDeclaration;
  readonly schemaSDL: string;
  readonly routes: readonly StackRoute[];
  readonly functions: ReadonlyMap<string, DeployedFunction>;
}

/**
 * The AppSync GraphQL API: the schema as loaded, the declared auth modes
 * (with the Cognito user pool, the Lambda authorizer, or the OIDC provider they need),
 * field-level logging to an encrypted log group, an expiring API key, one
 * Lambda data source per resolver function and one resolver per routed field.
 */
export class Api extends Construct {
  readonly api: AppsyncGraphqlApi;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { account, config, declaration, prefix } = props;
    const modes = authModes(declaration);
    const authorizer = lambdaAuthorizer(declaration, props.functions);
    const openIdConnect = openIdConnectConfig(declaration, config);
    // The same limits the local runtime enforces; only introspection may differ per environment.
    const limits = apiLimitsOf(declaration);
    const userPool = modes.includes('AMAZON_COGNITO_USER_POOLS')
      ? new UserPool(this, 'users', { prefix, config, adminGroup: declaration.adminGroup })
      : undefined;

    // AppSync names its log group after the API id, so the group, its role and its key follow the API.
    const logsRole = new ServiceRole(this, 'logs-role', {
      roleName: `${prefix}-appsync-logs`,
      description: `AppSync API ${prefix}: field-level logs`,
      service: 'appsync.amazonaws.com',
      sourceAccount: account.accountId,
      statements: [],
    });

    const authProvider = (mode: AuthMode): AppsyncGraphqlApiAdditionalAuthenticationProvider => {
      switch (mode) {
        case 'API_KEY':
        case 'AWS_IAM':
          return { authenticationType: mode };
        case 'AMAZON_COGNITO_USER_POOLS':
          if (!userPool) throw new Error('unreachable: user pool mode without a user pool');
          return { authenticationType: mode, userPoolConfig: userPool.appSyncConfig(account.region) };
        case 'AWS_LAMBDA':
          if (!authorizer) throw new Error('unreachable: Lambda mode without a Lambda authorizer');
          return {
            authenticationType: mode,
            lambdaAuthorizerConfig: {
              // The alias, like the data sources: a deploy switches the authorizer's version at once.
              authorizerUri: authorizer.function.alias.arn,
              authorizerResultTtlInSeconds: authorizer.resultTtlSeconds,
              // A regular expression may hold `${`, which Terraform would otherwise evaluate.
              identityValidationExpression:
                authorizer.identityValidationExpression === undefined
                  ? undefined
                  : terraformLiteral(authorizer.identityValidationExpression),
            },
          };
        case 'OPENID_CONNECT':
          if (!openIdConnect) throw new Error('unreachable: OIDC mode without an OIDC configuration');
          return { authenticationType: mode, openidConnectConfig: openIdConnect };
      }
    };
    const defaultProvider = authProvider(declaration.defaultAuthMode);
    const enhancedMetrics = config.api.enhancedMetrics;

    this.api = new AppsyncGraphqlApi(this, 'graphql', {
      name: prefix,
      schema: terraformLiteral(props.schemaSDL),
      authenticationType: defaultProvider.authenticationType,
      ...(defaultProvider.userPoolConfig ? { userPoolConfig: { ...defaultProvider.userPoolConfig, defaultAction: 'ALLOW' } } : {}),
      ...(defaultProvider.lambdaAuthorizerConfig ? { lambdaAuthorizerConfig: defaultProvider.lambdaAuthorizerConfig } : {}),
      ...(defaultProvider.openidConnectConfig ? { openidConnectConfig: defaultProvider.openidConnectConfig } : {}),
      additionalAuthenticationProvider: declaration.additionalAuthModes.map(authProvider),
      xrayEnabled: true,
      queryDepthLimit: limits.queryDepthLimit,
      resolverCountLimit: limits.resolverCountLimit,
      introspectionConfig: (config.api.introspection ?? limits.introspection) ? 'ENABLED' : 'DISABLED',
      logConfig: { cloudwatchLogsRoleArn: logsRole.arn, fieldLogLevel: config.api.fieldLogLevel, excludeVerboseContent: true },
      ...(enhancedMetrics
        ? {
            enhancedMetricsConfig: {
              resolverLevelMetricsBehavior: enhancedMetrics.resolver,
              dataSourceLevelMetricsBehavior: enhancedMetrics.dataSource,
              operationLevelMetricsConfig: enhancedMetrics.operation,
            },
          }
        : {}),
    });

    const logGroupName = `/aws/appsync/apis/${this.api.id}`;
    const logsKey = new EncryptionKey(this, 'logs-key', {
      account,
      alias: `${prefix}-appsync-logs`,
      description: `CloudWatch Logs of the ${prefix} AppSync API`,
      protectFromDeletion: config.deletionProtection,
      statements: [cloudwatchLogsKeyStatement(account, [account.logGroupArn(logGroupName)])],
    });
    const logGroup = new CloudwatchLogGroup(this, 'log-group', {
      name: logGroupName,
      retentionInDays: config.logRetentionDays,
      kmsKeyId: logsKey.arn,
    });
    logsRole.addStatements([
      // The group exists before AppSync first logs; AppSync still asks to create it.
      { Sid: 'LogGroup', Effect: 'Allow', Action: ['logs:CreateLogGroup'], Resource: [logGroup.arn] },
      { Sid: 'LogStreams', Effect: 'Allow', Action: logStreamWriteActions, Resource: [`${logGroup.arn}:*`] },
    ]);

    const responseCache = config.api.cache
      ? new ApiResponseCache(this, 'response-cache', { apiId: this.api.id, config: config.api.cache })
      : undefined;

    if (modes.includes('API_KEY')) {
      const apiKey = new AppsyncApiKey(this, 'api-key', {
        apiId: this.api.id,
        description: `Issued ${config.api.apiKeyIssuedOn}; rotate by changing apiKeyIssuedOn in stacks/config.ts`,
        expires: apiKeyExpiry(config.api.apiKeyIssuedOn, declaration.apiKeyTtlDays),
      });
      output(this, 'api_key', apiKey.key, 'AppSync API key', true);
    }

    if (authorizer) {
      // AppSync calls an authorizer with its own service principal (no data-source role), so the
      // alias's resource policy admits it, for this API only (sourceArn: no confused deputy).
      new LambdaPermission(this, 'authorizer-permission', {
        statementId: 'AppSyncLambdaAuthorizer',
        action: 'lambda:InvokeFunction',
        principal: 'appsync.amazonaws.com',
        functionName: authorizer.function.function.functionName,
        qualifier: authorizer.function.alias.name,
        sourceArn: this.api.arn,
      });
    }

    const invokeCode = terraformLiteral(lambdaResolverCode('Invoke'));
    const batchInvokeCode = terraformLiteral(lambdaResolverCode('BatchInvoke'));
    const dataSources = new Map<string, AppsyncDatasource>();
    for (const [name, deployed] of props.functions) {
      if (deployed.kind !== 'resolver') continue;
      const dataSourceScope = new Construct(this, name);
      const role = new ServiceRole(dataSourceScope, 'role', {
        roleName: `${prefix}-appsync-${name}`,
        description: `AppSync API ${prefix}: invoke ${deployed.physicalName}:${LIVE_ALIAS}`,
        service: 'appsync.amazonaws.com',
        sourceAccount: account.accountId,
        statements: [{ Sid: 'InvokeLiveAlias', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [deployed.alias.arn] }],
      });
      dataSources.set(
        name,
        new AppsyncDatasource(dataSourceScope, 'data-source', {
          apiId: this.api.id,
          name: dataSourceName(name),
          description: `Lambda function ${name} (live alias)`,
          type: 'AWS_LAMBDA',
          serviceRoleArn: role.arn,
          lambdaConfig: { functionArn: deployed.alias.arn },
        }),
      );
    }

    for (const route of props.routes) {
      const dataSource = dataSources.get(route.functionName);
      if (!dataSource) throw new Error(`${route.coordinate} is routed to ${route.functionName}, which has no data source`);
      const batched = route.maxBatchSize !== undefined;
      const cachingConfig = resolverCachingConfig(route.cachingConfig, config.api.cache);
      new AppsyncResolver(this, `${route.typeName}.${route.fieldName}`, {
        apiId: this.api.id,
        type: route.typeName,
        field: route.fieldName,
        kind: 'UNIT',
        dataSource: dataSource.name,
        runtime: { name: 'APPSYNC_JS', runtimeVersion: '1.0.0' },
        code: batched ? batchInvokeCode : invokeCode,
        maxBatchSize: route.maxBatchSize,
        // A resolver may name a cache only once the API has one.
        ...(cachingConfig && responseCache ? { cachingConfig, dependsOn: [responseCache.cache] } : {}),
      });
    }

    output(this, 'graphql_url', this.api.uris.lookup('GRAPHQL'), 'GraphQL endpoint');
    output(this, 'realtime_url', this.api.uris.lookup('REALTIME'), 'Real-time (subscription) endpoint');
    if (userPool) {
      output(this, 'user_pool_id', userPool.pool.id, "Cognito user pool of the API's user-pool auth mode");
      output(this, 'user_pool_client_id', userPool.client.id, 'Web client of that user pool');
    }
  }
}

/** The declared Lambda authorizer and its deployed function, which must be of kind `authorizer`. */
function lambdaAuthorizer(
  declaration: ApiDeclaration,
  functions: ReadonlyMap<string, DeployedFunction>,
): { function: DeployedFunction; resultTtlSeconds: number; identityValidationExpression: string | undefined } | undefined {
  const authorizer = lambdaAuthorizerOf(declaration);
  if (!authorizer) return undefined;
  const deployed = functions.get(authorizer.function);
  if (deployed?.kind !== 'authorizer') {
    throw new Error(
      `declarations/api.ts names ${authorizer.function} as the Lambda authorizer, but the function map has no such authorizer`,
    );
  }
  return {
    function: deployed,
    resultTtlSeconds: authorizer.resultTtlSeconds,
    identityValidationExpression: authorizer.identityValidationExpression,
  };
}

/**
 * AppSync's `openid_connect_config`: the environment's issuer and client id
 * (stacks/config.ts) with the declared token lifetimes (declarations/api.ts).
 * An environment without them cannot serve a declared OIDC mode, and one with
 * them but no such mode would be configuration nobody reads: both fail synth.
 */
function openIdConnectConfig(
  declaration: ApiDeclaration,
  config: EnvironmentConfig,
): { issuer: string; clientId: string; iatTtl: number; authTtl: number } | undefined {
  const oidc = openIdConnectOf(declaration);
  const settings = config.api.openIdConnect;
  if (oidc && !settings)
    throw new Error(`OPENID_CONNECT is an auth mode but environment ${config.name} sets no api.openIdConnect (stacks/config.ts)`);
  if (!oidc && settings)
    throw new Error(`Environment ${config.name} sets api.openIdConnect but OPENID_CONNECT is not an auth mode (declarations/api.ts)`);
  if (!oidc || !settings) return undefined;
  // The client id is a regular expression to AppSync: `${` in it must reach AppSync, not Terraform.
  return { issuer: settings.issuer, clientId: terraformLiteral(settings.clientId), iatTtl: oidc.iatTtlMs, authTtl: oidc.authTtlMs };
}

/** Outputs keep their plain names (no construct-path hash): deploy tooling reads them by name. */
function output(scope: Construct, name: string, value: string, description: string, sensitive = false): void {
  new TerraformOutput(scope, name, { value, description, ...(sensitive ? { sensitive } : {}) }).overrideLogicalId(name);
}

/** AppSync data source names allow letters, digits and underscores only. */
export function dataSourceName(functionName: string): string {
  return `${functionName.replace(/[^A-Za-z0-9_]/g, '_')}_lambda`;
}

interface UserPoolProps {
  readonly prefix: string;
  readonly config: EnvironmentConfig;
  readonly adminGroup: string;
}

/** The customers' user pool, a public (secretless) web client, and the admin group the schema's directives name. */
class UserPool extends Construct {
  readonly pool: CognitoUserPool;
  readonly client: CognitoUserPoolClient;

  constructor(scope: Construct, id: string, props: UserPoolProps) {
    super(scope, id);
    this.pool = new CognitoUserPool(this, 'pool', {
      name: props.prefix,
      deletionProtection: props.config.deletionProtection ? 'ACTIVE' : 'INACTIVE',
      autoVerifiedAttributes: ['email'],
      usernameConfiguration: { caseSensitive: false },
      passwordPolicy: {
        minimumLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: true,
        temporaryPasswordValidityDays: 3,
      },
      mfaConfiguration: 'OPTIONAL',
      softwareTokenMfaConfiguration: { enabled: true },
      accountRecoverySetting: { recoveryMechanism: [{ name: 'verified_email', priority: 1 }] },
    });
    this.client = new CognitoUserPoolClient(this, 'web-client', {
      name: `${props.prefix}-web`,
      userPoolId: this.pool.id,
      generateSecret: false,
      explicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      preventUserExistenceErrors: 'ENABLED',
      enableTokenRevocation: true,
      accessTokenValidity: 60,
      idTokenValidity: 60,
      refreshTokenValidity: 30,
      tokenValidityUnits: [{ accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' }],
    });
    new CognitoUserGroup(this, 'admin-group', {
      name: props.adminGroup,
      userPoolId: this.pool.id,
      description: "May write the catalog and move orders along (see the schema's cognito_groups)",
    });
  }

  /** Only tokens issued to this pool's own client are accepted. */
  appSyncConfig(region: string): { userPoolId: string; awsRegion: string; appIdClientRegex: string } {
    return { userPoolId: this.pool.id, awsRegion: region, appIdClientRegex: this.client.id };
  }
}
