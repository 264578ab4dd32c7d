import { AppsyncApiKey } from '@cdktf/provider-aws/lib/appsync-api-key/index.js';
import { AppsyncGraphqlApi } from '@cdktf/provider-aws/lib/appsync-graphql-api/index.js';
import { CognitoUserGroup } from '@cdktf/provider-aws/lib/cognito-user-group/index.js';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table/index.js';
import { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../declarations/api.js';
import { buildAppSyncSchema, loadSchemaSDL } from '../../declarations/schema.js';
import { functionEnvironment, usesCache } from '../../declarations/function-environment.js';
import { physicalTableName, tables, tableNames, type TableName } from '../../declarations/tables.js';
import { functionNames, functions, isResolverFunction, type FunctionDeclaration, type FunctionName } from '../../declarations/functions.js';
import { fieldRoutes } from '../../declarations/check.js';
import { lambdaResolverCode } from '../../stacks/appsync/resolver-code.js';
import { apiKeyExpiry, environmentNames, environments, type EnvironmentConfig } from '../../stacks/config.js';
import { parameterVariableName } from '../../stacks/constructs/functions.js';
import { attributeDefinitions } from '../../stacks/constructs/tables.js';
import { concurrencyPlan, effectiveConcurrency } from '../../stacks/lib/concurrency.js';
import { defaultDeclarations, stackRoutes, type StackDeclarations } from '../../stacks/declarations.js';
import type { PolicyDocument, PolicyStatement } from '../../stacks/lib/policy-document.js';
import { evaluateTerraformLiteral, terraformLiteral } from '../../stacks/lib/terraform-literal.js';
import './support/matchers.js';
import {
  fakeArtifacts,
  ref,
  removeTempDirs,
  requireStack,
  resources,
  resourceWhere,
  synthStacks,
  type SynthesizedStack,
  type TerraformJson,
} from './support/synth.js';

let stacks: Map<string, SynthesizedStack>;
const artifacts = fakeArtifacts(functionNames);

beforeAll(() => {
  stacks = synthStacks({ artifacts });
});
afterAll(removeTempDirs);

const each = environmentNames.map((name) => [name] as const);
const resolverFunctionNames = functionNames.filter(isResolverFunction);

/** What a function's declared parameters are set to in the stacks: references to their Terraform variables. */
function parameterRefs(fn: FunctionName): Record<string, string> {
  const declaration: FunctionDeclaration = functions[fn];
  return Object.fromEntries(
    Object.keys(declaration.parameters ?? {}).map((parameter) => [parameter, `\${var.${parameterVariableName(fn, parameter)}}`]),
  );
}
/** The cache variables a cache-using function gets where the environment has a cache (staging/prod: serverless Valkey). */
function cacheRefs(env: keyof typeof environments, declaration: FunctionDeclaration): Record<string, string> {
  if (environments[env].cache.kind === 'none' || !usesCache(declaration)) return {};
  return {
    CACHE_BACKEND: 'redis',
    REDIS_TLS: 'true', // An asymmetric matcher standing in for the reference string, which toMatchObject accepts.
    REDIS_CLUSTER_NODES: expect.stringMatching(
      /^\$\{aws_elasticache_serverless_cache\.[^.]+\.endpoint\[0\]\.address\}:\$\{/,
    ) as unknown as string,
  };
}
const parsed = (name: string): TerraformJson => requireStack(stacks, name).parsed;
const prefix = (name: string): string => `storefront-${name}`;

function policyOf(stack: TerraformJson, roleId: string): PolicyStatement[] {
  const policies = resources(stack, 'aws_iam_role_policy').filter(([, body]) => body.role === ref('aws_iam_role', roleId, 'id'));
  expect(policies).toHaveLength(1);
  return (JSON.parse(String(policies[0]?.[1].policy)) as PolicyDocument).Statement.slice();
}

/** A `${` or `%{` Terraform would evaluate instead of passing on. */
function hasUnescapedTemplate(text: string): boolean {
  return /(^|[^$])\$\{/.test(text) || /(^|[^%])%\{/.test(text);
}

describe('terraform literals', () => {
  it('escapes template syntax so Terraform evaluates text back to itself', () => {
    const text = 'a ${b} %{c} $${d}';
    const escaped = terraformLiteral(text);
    expect(hasUnescapedTemplate(escaped)).toBe(false);
    expect(evaluateTerraformLiteral(escaped)).toBe(text);
  });
});

describe('environments', () => {
  it('synthesizes dev, staging and prod from one definition', () => {
    expect([...stacks.keys()]).toEqual(['dev', 'staging', 'prod']);
  });

  it('gives every environment the same resources, apart from config-driven concurrency, cache and network, WAF and code signing', () => {
    // The cache and network constructs (config.cache), the web ACL with its alarm (config.waf) and the
    // signing profile (prod) are the only other per-environment differences.
    const cacheFamily = (address: string): boolean =>
      address.includes('.network_') ||
      address.includes('.cache_') ||
      /_waf-blocked-requests_/.test(address) ||
      /^aws_(vpc|subnet|route_table|security_group|default_security_group|elasticache|dax|secretsmanager)/.test(address) ||
      /^aws_(wafv2_web_acl|wafv2_web_acl_association)\./.test(address);
    // Provisioned concurrency is per config; code signing is prod's alone (test/stacks/production-edge.test.ts);
    // the AppSync response cache is staging's alone (test/stacks/resolver-caching.test.ts).
    const configDriven = new Set([
      'aws_lambda_provisioned_concurrency_config',
      'aws_signer_signing_profile',
      'aws_lambda_code_signing_config',
      'aws_appsync_api_cache',
    ]);
    const addresses = (name: string, withCache = false): string[] =>
      Object.entries(parsed(name).resource)
        .filter(([type]) => !configDriven.has(type))
        .flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`))
        .filter((address) => withCache || !cacheFamily(address))
        .sort();
    expect(addresses('staging')).toEqual(addresses('dev'));
    expect(addresses('prod')).toEqual(addresses('dev'));
    // Staging and prod pick the same kind of cache: the same resources, sizes aside.
    expect(addresses('prod', true)).toEqual(addresses('staging', true));
  });

  it.each(each)('%s: configures the AWS provider for its region with default tags', (name) => {
    const provider = (parsed(name) as unknown as { provider: { aws: Record<string, unknown>[] } }).provider.aws[0];
    expect(provider).toEqual({
      region: environments[name].region,
      default_tags: [{ tags: { project: 'storefront', environment: name, 'managed-by': 'cdktf' } }],
    });
  });

  it('dev keeps Terraform state in a local backend by default, at a machine-independent path', () => {
    // Staging and prod default to S3 with native locking (test/stacks/production-edge.test.ts).
    expect(parsed('dev').terraform.backend).toEqual({ local: { path: '../../../terraform.dev.tfstate' } });
  });

  it('uses an S3 backend with DynamoDB locking and encryption when configured', () => {
    const config: EnvironmentConfig = {
      ...environments.prod,
      backend: { kind: 's3', bucket: 'acme-tf-state', key: 'storefront/prod.tfstate', region: 'eu-west-1', dynamodbTable: 'acme-tf-locks' },
    };
    const stack = requireStack(synthStacks({ environments: [config], artifacts }), 'prod').parsed;
    expect(stack.terraform.backend).toEqual({
      s3: {
        bucket: 'acme-tf-state',
        key: 'storefront/prod.tfstate',
        region: 'eu-west-1',
        dynamodb_table: 'acme-tf-locks',
        encrypt: true,
        use_lockfile: true,
      },
    });
  });

  it('rejects configurations AWS would reject at apply time', () => {
    // The request limits are the API declaration's (declarations/api.ts), checked against AppSync's ranges.
    const base = defaultDeclarations();
    for (const [limit, value] of [
      ['queryDepthLimit', 76],
      ['resolverCountLimit', 10_001],
      ['maxRequestBytes', 2 * 1024 * 1024],
    ] as const) {
      const declarations: StackDeclarations = { ...base, api: { ...base.api, limits: { ...base.api.limits, [limit]: value } } };
      expect(() => synthStacks({ environments: [environments.dev], declarations, artifacts })).toThrow(new RegExp(limit));
    }
    expect(() => effectiveConcurrency('catalog', {}, { concurrency: { catalog: { reserved: 1, provisioned: 2 } } })).toThrow(
      /exceeds reserved/,
    );
  });
});

describe('tables', () => {
  it.each(each)('%s: one encrypted, recoverable on-demand table per declaration', (name) => {
    const stack = parsed(name);
    expect(resources(stack, 'aws_dynamodb_table')).toHaveLength(tableNames.length);
    for (const table of tableNames) {
      const declaration = tables[table];
      const [, body] = resourceWhere(stack, 'aws_dynamodb_table', 'name', physicalTableName(prefix(name), table));
      expect(body).toMatchObject({
        billing_mode: 'PAY_PER_REQUEST',
        hash_key: declaration.partitionKey.name,
        attribute: attributeDefinitions(declaration),
        point_in_time_recovery: { enabled: true },
        deletion_protection_enabled: environments[name].deletionProtection,
      });
      expect(body.range_key).toBe('sortKey' in declaration ? declaration.sortKey.name : undefined);
      expect(body.global_secondary_index ?? []).toEqual(
        declaration.globalSecondaryIndexes.map((index) => ({
          name: index.name,
          hash_key: index.partitionKey.name,
          projection_type: index.projection,
          ...('sortKey' in index ? { range_key: index.sortKey.name } : {}),
        })),
      );
      expect(body.stream_enabled).toBe(true);
      expect(body.stream_view_type).toBe(declaration.stream);
      expect(body.ttl).toBeUndefined();

      // SSE with this table's own customer-managed key, which rotates.
      const sse = body.server_side_encryption as { enabled: boolean; kms_key_arn: string };
      expect(sse.enabled).toBe(true);
      const keyId = /^\$\{aws_kms_key\.([^.]+)\.arn\}$/.exec(sse.kms_key_arn)?.[1];
      expect(keyId).toBeDefined();
      expect(stack.resource.aws_kms_key?.[keyId ?? '']).toMatchObject({ enable_key_rotation: true });
    }
  });

  it('matches with the CDKTF matchers too', () => {
    const json = requireStack(stacks, 'prod').json;
    expect(json).toHaveResourceWithProperties(DynamodbTable, {
      name: 'storefront-prod-products',
      deletionProtectionEnabled: true,
      pointInTimeRecovery: { enabled: true },
    });
  });

  it('declares each key attribute once, and refuses conflicting types', () => {
    expect(attributeDefinitions(tables.products)).toEqual([
      { name: 'id', type: 'S' },
      { name: 'category', type: 'S' },
      { name: 'createdAt', type: 'S' },
    ]);
    expect(() =>
      attributeDefinitions({
        ...tables.products,
        globalSecondaryIndexes: [{ name: 'x', partitionKey: { name: 'id', type: 'N' }, projection: 'ALL' }],
      }),
    ).toThrow(/both S and N/);
  });
});

describe('functions', () => {
  it.each(each)('%s: one arm64 Node.js 22 function per declaration, sized and configured from it', (name) => {
    const stack = parsed(name);
    expect(resources(stack, 'aws_lambda_function')).toHaveLength(functionNames.length);
    const physicalNames = Object.fromEntries(tableNames.map((t) => [t, physicalTableName(prefix(name), t)])) as Record<TableName, string>;
    for (const fn of functionNames) {
      const declaration = functions[fn];
      const [id, body] = resourceWhere(stack, 'aws_lambda_function', 'function_name', `${prefix(name)}-${fn}`);
      const artifact = artifacts.find((a) => a.name === fn);
      expect(body).toMatchObject({
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler: 'index.handler',
        memory_size: declaration.memoryMb,
        timeout: declaration.timeoutSeconds,
        publish: true,
        source_code_hash: artifact?.sourceCodeHash,
        tracing_config: { mode: 'Active' },
        environment: {
          // Exactly the declared environment: no NODE_OPTIONS, since the zips carry no source maps (README "Function artifacts").
          variables: functionEnvironment(fn, declaration, physicalNames, { ...parameterRefs(fn), ...cacheRefs(name, declaration) }),
        },
      });
      expect(String(body.filename)).toMatch(new RegExp(`^assets/.+/${fn}\\.zip$`));
      expect(body.reserved_concurrent_executions).toBe(concurrencyPlan(functions, environments[name]).get(fn)?.reserved);

      // JSON logs into the function's own log group, which has retention and a KMS key.
      const logging = body.logging_config as { log_format: string; log_group: string };
      expect(logging.log_format).toBe('JSON');
      const [logGroupId, logGroup] = resourceWhere(stack, 'aws_cloudwatch_log_group', 'name', `/aws/lambda/${prefix(name)}-${fn}`);
      expect(logging.log_group).toBe(ref('aws_cloudwatch_log_group', logGroupId, 'name'));
      expect(logGroup.retention_in_days).toBe(environments[name].logRetentionDays);
      expect(String(logGroup.kms_key_id)).toMatch(/^\$\{aws_kms_key\.[^.]+\.arn\}$/);

      // `live` alias on the version this apply publishes.
      const aliases = resources(stack, 'aws_lambda_alias').filter(
        ([, alias]) => alias.function_name === ref('aws_lambda_function', id, 'function_name'),
      );
      expect(aliases).toHaveLength(1);
      expect(aliases[0]?.[1]).toMatchObject({ name: 'live', function_version: ref('aws_lambda_function', id, 'version') });
    }
  });

  it('keeps provisioned concurrency on the alias where the environment asks for it', () => {
    expect(resources(parsed('dev'), 'aws_lambda_provisioned_concurrency_config')).toHaveLength(0);
    expect(resources(parsed('staging'), 'aws_lambda_provisioned_concurrency_config')).toHaveLength(0);
    const prod = parsed('prod');
    const [functionId] = resourceWhere(prod, 'aws_lambda_function', 'function_name', 'storefront-prod-catalog');
    const [aliasId] = resourceWhere(prod, 'aws_lambda_alias', 'function_name', ref('aws_lambda_function', functionId, 'function_name'));
    const configs = resources(prod, 'aws_lambda_provisioned_concurrency_config');
    expect(configs.map(([, body]) => body)).toEqual([
      {
        function_name: ref('aws_lambda_function', functionId, 'function_name'),
        qualifier: ref('aws_lambda_alias', aliasId, 'name'),
        provisioned_concurrent_executions: environments.prod.concurrency.catalog.provisioned,
      },
    ]);
  });

  it('takes reserved concurrency from the config over the declaration', () => {
    const config: EnvironmentConfig = { ...environments.dev, concurrency: { orders: { reserved: 20, provisioned: 5 } } };
    const declarations: StackDeclarations = {
      ...defaultDeclarations(),
      functions: { ...functions, reviews: { ...functions.reviews, reservedConcurrency: 7 } },
    };
    const stack = requireStack(synthStacks({ environments: [config], declarations, artifacts }), 'dev');
    expect(stack.json).toHaveResourceWithProperties(LambdaFunction, {
      functionName: 'storefront-dev-orders',
      reservedConcurrentExecutions: 20,
    });
    expect(stack.json).toHaveResourceWithProperties(LambdaFunction, {
      functionName: 'storefront-dev-reviews',
      reservedConcurrentExecutions: 7,
    });
    expect(
      resources(stack.parsed, 'aws_lambda_provisioned_concurrency_config').map(([, body]) => body.provisioned_concurrent_executions),
    ).toEqual([5]);
  });

  it('matches with the CDKTF matchers too', () => {
    expect(requireStack(stacks, 'dev').json).toHaveResourceWithProperties(LambdaAlias, { name: 'live' });
  });
});

describe('iam', () => {
  const read = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
  const write = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

  it.each(each)('%s: each function role grants exactly its declared table access, and nothing on other tables', (name) => {
    const stack = parsed(name);
    for (const fn of functionNames) {
      const [, body] = resourceWhere(stack, 'aws_lambda_function', 'function_name', `${prefix(name)}-${fn}`);
      const roleId = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(String(body.role))?.[1] ?? '';
      const trust = JSON.parse(String(stack.resource.aws_iam_role?.[roleId]?.assume_role_policy)) as PolicyDocument;
      expect(trust.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);

      const statements = policyOf(stack, roleId);
      const declared = functions[fn].tables as Partial<Record<TableName, 'read' | 'readwrite'>>;
      for (const table of tableNames) {
        const [tableId] = resourceWhere(stack, 'aws_dynamodb_table', 'name', physicalTableName(prefix(name), table));
        const tableArn = ref('aws_dynamodb_table', tableId, 'arn');
        const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(tableArn));
        const access = declared[table];
        if (!access) {
          expect(onTable, `${fn} must not touch ${table}`).toEqual([]);
          continue;
        }
        expect(onTable.find((s) => s.Sid?.endsWith('Table'))).toMatchObject({
          Action: access === 'read' ? read : [...read, ...write],
          Resource: [tableArn],
        });
        const indexArns = tables[table].globalSecondaryIndexes.map((index) => `${tableArn}/index/${index.name}`);
        expect(onTable.find((s) => s.Sid?.endsWith('Indexes'))).toEqual(
          indexArns.length > 0 ? { Sid: expect.any(String), Effect: 'Allow', Action: ['dynamodb:Query'], Resource: indexArns } : undefined,
        );
        const [keyId] =
          /aws_kms_key\.([^.]+)\.arn/
            .exec(String((stack.resource.aws_dynamodb_table?.[tableId]?.server_side_encryption as { kms_key_arn: string }).kms_key_arn))
            ?.slice(1) ?? [];
        expect(
          statements.find((s) => s.Sid?.endsWith('Key') && JSON.stringify(s.Resource).includes(`aws_kms_key.${keyId}.arn`)),
        ).toMatchObject({
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${environments[name].region}.amazonaws.com` } },
        });
      }
      const [logGroupId] = resourceWhere(stack, 'aws_cloudwatch_log_group', 'name', `/aws/lambda/${prefix(name)}-${fn}`);
      expect(statements.find((s) => s.Sid === 'Logs')).toMatchObject({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [`${ref('aws_cloudwatch_log_group', logGroupId, 'arn')}:*`],
      });
      expect(statements.find((s) => s.Sid === 'Tracing')).toMatchObject({
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
    }
  });

  it.each(each)("%s: each AppSync data source role may invoke only its own function's live alias", (name) => {
    const stack = parsed(name);
    // One data source per resolver function; the authorizer serves no field, so it has none.
    expect(resources(stack, 'aws_appsync_datasource')).toHaveLength(resolverFunctionNames.length);
    for (const fn of resolverFunctionNames) {
      const [functionId] = resourceWhere(stack, 'aws_lambda_function', 'function_name', `${prefix(name)}-${fn}`);
      const [aliasId] = resourceWhere(stack, 'aws_lambda_alias', 'function_name', ref('aws_lambda_function', functionId, 'function_name'));
      const [, dataSource] = resourceWhere(stack, 'aws_appsync_datasource', 'name', `${fn}_lambda`);
      expect(dataSource).toMatchObject({ type: 'AWS_LAMBDA', lambda_config: { function_arn: ref('aws_lambda_alias', aliasId, 'arn') } });
      const roleId = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(String(dataSource.service_role_arn))?.[1] ?? '';
      expect(policyOf(stack, roleId)).toEqual([
        { Sid: 'InvokeLiveAlias', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [ref('aws_lambda_alias', aliasId, 'arn')] },
      ]);
      const trust = JSON.parse(String(stack.resource.aws_iam_role?.[roleId]?.assume_role_policy)) as PolicyDocument;
      expect(trust.Statement[0]).toMatchObject({
        Principal: { Service: 'appsync.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': expect.stringContaining('aws_caller_identity') } },
      });
    }
  });
});

describe('api', () => {
  it.each(each)('%s: the AppSync API receives loadSchemaSDL() byte for byte', (name) => {
    const [, graphql] = resourceWhere(parsed(name), 'aws_appsync_graphql_api', 'name', prefix(name));
    // The schema holds no `${`/`%{`, so nothing needed escaping: equal as synthesized and as Terraform evaluates it.
    expect(hasUnescapedTemplate(String(graphql.schema))).toBe(false);
    expect(evaluateTerraformLiteral(String(graphql.schema))).toBe(loadSchemaSDL());
    expect(graphql.schema).toBe(loadSchemaSDL());
  });

  it.each(each)("%s: one resolver per routed field, each on a field the schema has, on its function's data source", (name) => {
    const stack = parsed(name);
    const schema = buildAppSyncSchema(loadSchemaSDL());
    const routes = fieldRoutes();
    const resolvers = resources(stack, 'aws_appsync_resolver').map(([, body]) => body);
    expect(resolvers.map((r) => `${String(r.type)}.${String(r.field)}`).sort()).toEqual([...routes.keys()].sort());
    for (const resolver of resolvers) {
      const type = schema.getType(String(resolver.type));
      expect(
        isObjectType(type) && type.getFields()[String(resolver.field)],
        `${String(resolver.type)}.${String(resolver.field)}`,
      ).toBeTruthy();
      const route = routes.get(`${String(resolver.type)}.${String(resolver.field)}`);
      const [dataSourceId] = resourceWhere(stack, 'aws_appsync_datasource', 'name', `${route?.functionName}_lambda`);
      expect(resolver).toMatchObject({
        kind: 'UNIT',
        data_source: ref('aws_appsync_datasource', dataSourceId, 'name'),
        runtime: { name: 'APPSYNC_JS', runtime_version: '1.0.0' },
      });
      expect(hasUnescapedTemplate(String(resolver.code))).toBe(false);
      expect(evaluateTerraformLiteral(String(resolver.code))).toBe(
        lambdaResolverCode(route?.maxBatchSize === undefined ? 'Invoke' : 'BatchInvoke'),
      );
      expect(resolver.max_batch_size).toBe(route?.maxBatchSize);
    }
  });

  it.each(each)('%s: auth modes, limits, tracing and field logs from the declarations and the config', (name) => {
    const stack = parsed(name);
    const config: EnvironmentConfig = environments[name];
    const [, graphql] = resourceWhere(stack, 'aws_appsync_graphql_api', 'name', prefix(name));
    const [poolId] = resourceWhere(stack, 'aws_cognito_user_pool', 'name', prefix(name));
    const [clientId] = resourceWhere(stack, 'aws_cognito_user_pool_client', 'name', `${prefix(name)}-web`);
    expect(graphql).toMatchObject({
      authentication_type: api.defaultAuthMode,
      additional_authentication_provider: [
        {
          authentication_type: 'AMAZON_COGNITO_USER_POOLS',
          user_pool_config: {
            user_pool_id: ref('aws_cognito_user_pool', poolId, 'id'),
            aws_region: config.region,
            app_id_client_regex: ref('aws_cognito_user_pool_client', clientId, 'id'),
          },
        },
        { authentication_type: 'AWS_IAM' },
        {
          authentication_type: 'AWS_LAMBDA',
          lambda_authorizer_config: { authorizer_uri: expect.stringMatching(/^\$\{aws_lambda_alias\./) },
        },
        {
          authentication_type: 'OPENID_CONNECT',
          openid_connect_config: {
            issuer: config.api.openIdConnect?.issuer,
            client_id: config.api.openIdConnect?.clientId,
            iat_ttl: api.openIdConnect?.iatTtlMs,
            auth_ttl: api.openIdConnect?.authTtlMs,
          },
        },
      ],
      xray_enabled: true,
      // The numbers come from the API declaration (the local runtime enforces the same); introspection
      // is the declaration's unless the environment overrides it (prod turns it off).
      query_depth_limit: api.limits.queryDepthLimit,
      resolver_count_limit: api.limits.resolverCountLimit,
      introspection_config: (config.api.introspection ?? api.limits.introspection) ? 'ENABLED' : 'DISABLED',
      log_config: { field_log_level: config.api.fieldLogLevel, exclude_verbose_content: true },
    });
    expect(graphql.introspection_config).toBe(name === 'prod' ? 'DISABLED' : 'ENABLED');
    expect(resourceWhere(stack, 'aws_cognito_user_group', 'name', api.adminGroup)[1].user_pool_id).toBe(
      ref('aws_cognito_user_pool', poolId, 'id'),
    );
    const [, pool] = resourceWhere(stack, 'aws_cognito_user_pool', 'name', prefix(name));
    expect(pool.deletion_protection).toBe(config.deletionProtection ? 'ACTIVE' : 'INACTIVE');

    // Field logs go to the API's own encrypted log group, through a role that may write only there.
    const [graphqlId] = resourceWhere(stack, 'aws_appsync_graphql_api', 'name', prefix(name));
    const [logGroupId, logGroup] = resourceWhere(
      stack,
      'aws_cloudwatch_log_group',
      'name',
      `/aws/appsync/apis/${ref('aws_appsync_graphql_api', graphqlId, 'id')}`,
    );
    expect(logGroup.retention_in_days).toBe(config.logRetentionDays);
    const logsRoleId =
      /aws_iam_role\.([^.]+)\.arn/.exec(
        String((graphql.log_config as { cloudwatch_logs_role_arn: string }).cloudwatch_logs_role_arn),
      )?.[1] ?? '';
    const logGroupArn = ref('aws_cloudwatch_log_group', logGroupId, 'arn');
    expect(policyOf(stack, logsRoleId)).toEqual([
      { Sid: 'LogGroup', Effect: 'Allow', Action: ['logs:CreateLogGroup'], Resource: [logGroupArn] },
      { Sid: 'LogStreams', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${logGroupArn}:*`] },
    ]);
  });

  it.each(each)('%s: an API key expiring apiKeyTtlDays after the configured issue date, and the outputs', (name) => {
    const stack = parsed(name);
    const expires = apiKeyExpiry(environments[name].api.apiKeyIssuedOn, api.apiKeyTtlDays);
    expect(requireStack(stacks, name).json).toHaveResourceWithProperties(AppsyncApiKey, { expires });
    const [keyId] = resources(stack, 'aws_appsync_api_key')[0] ?? [];
    const [graphqlId] = resourceWhere(stack, 'aws_appsync_graphql_api', 'name', prefix(name));
    expect(stack.output).toEqual({
      graphql_url: { value: `\${aws_appsync_graphql_api.${graphqlId}.uris["GRAPHQL"]}`, description: expect.any(String) },
      realtime_url: { value: `\${aws_appsync_graphql_api.${graphqlId}.uris["REALTIME"]}`, description: expect.any(String) },
      api_key: { value: ref('aws_appsync_api_key', keyId ?? '', 'key'), sensitive: true, description: expect.any(String) },
      user_pool_id: { value: expect.stringMatching(/^\$\{aws_cognito_user_pool\./), description: expect.any(String) },
      user_pool_client_id: { value: expect.stringMatching(/^\$\{aws_cognito_user_pool_client\./), description: expect.any(String) },
    });
  });

  it('computes the key expiry without the clock', () => {
    expect(apiKeyExpiry('2026-11-24', 365)).toBe('2027-11-24T00:00:00Z');
    expect(() => apiKeyExpiry('2026-11-24', 366)).toThrow(/1 to 365/);
    expect(() => apiKeyExpiry('someday', 30)).toThrow(/YYYY-MM-DD/);
  });

  it('matches with the CDKTF matchers too', () => {
    const json = requireStack(stacks, 'staging').json;
    expect(json).toHaveResourceWithProperties(AppsyncGraphqlApi, { name: 'storefront-staging', xrayEnabled: true });
    expect(json).toHaveResourceWithProperties(CognitoUserGroup, { name: api.adminGroup });
  });
});

describe('lambda authorizer (AWS_LAMBDA)', () => {
  const authorizer = api.lambdaAuthorizer;

  /** The authorizer function, its live alias and the API, by logical id. */
  function ids(stack: TerraformJson, name: string): { functionId: string; aliasId: string; graphqlId: string } {
    const [functionId] = resourceWhere(stack, 'aws_lambda_function', 'function_name', `${prefix(name)}-${authorizer.function}`);
    const [aliasId] = resourceWhere(stack, 'aws_lambda_alias', 'function_name', ref('aws_lambda_function', functionId, 'function_name'));
    const [graphqlId] = resourceWhere(stack, 'aws_appsync_graphql_api', 'name', prefix(name));
    return { functionId, aliasId, graphqlId };
  }

  it.each(each)("%s: the API authorizes AWS_LAMBDA with the authorizer's live alias, the declared TTL and token expression", (name) => {
    const stack = parsed(name);
    const { aliasId, graphqlId } = ids(stack, name);
    const providers = stack.resource.aws_appsync_graphql_api?.[graphqlId]?.additional_authentication_provider as Array<
      Record<string, unknown>
    >;
    expect(providers.filter((p) => p.authentication_type === 'AWS_LAMBDA')).toEqual([
      {
        authentication_type: 'AWS_LAMBDA',
        lambda_authorizer_config: {
          authorizer_uri: ref('aws_lambda_alias', aliasId, 'arn'),
          authorizer_result_ttl_in_seconds: authorizer.resultTtlSeconds,
          identity_validation_expression: authorizer.identityValidationExpression,
        },
      },
    ]);
  });

  it.each(each)('%s: lets appsync.amazonaws.com invoke that alias, for this API only', (name) => {
    const stack = parsed(name);
    const { functionId, aliasId, graphqlId } = ids(stack, name);
    expect(resources(stack, 'aws_lambda_permission').map(([, body]) => body)).toEqual([
      {
        statement_id: 'AppSyncLambdaAuthorizer',
        action: 'lambda:InvokeFunction',
        principal: 'appsync.amazonaws.com',
        function_name: ref('aws_lambda_function', functionId, 'function_name'),
        qualifier: ref('aws_lambda_alias', aliasId, 'name'),
        source_arn: ref('aws_appsync_graphql_api', graphqlId, 'arn'),
      },
    ]);
  });

  it.each(each)('%s: the authorizer may only log and trace: no table, no key, no data source, no resolver', (name) => {
    const stack = parsed(name);
    const { functionId } = ids(stack, name);
    const roleId = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(String(stack.resource.aws_lambda_function?.[functionId]?.role))?.[1] ?? '';
    expect(policyOf(stack, roleId).map((statement) => statement.Sid)).toEqual(['Logs', 'Tracing']);
    expect(resources(stack, 'aws_appsync_datasource').filter(([, body]) => String(body.name).startsWith(authorizer.function))).toEqual([]);
    expect(resources(stack, 'aws_appsync_resolver')).toHaveLength(fieldRoutes().size);
  });

  it.each(each)('%s: partner token hashes come from a sensitive Terraform variable, never from code', (name) => {
    const stack = parsed(name);
    const { functionId } = ids(stack, name);
    const variableName = parameterVariableName(authorizer.function, 'PARTNER_TOKENS_SHA256');
    expect(variableName).toBe('authorizer_partner_tokens_sha256');
    expect(stack.variable?.[variableName]).toMatchObject({ type: 'string', sensitive: true, nullable: false, default: '' });
    const variables = (stack.resource.aws_lambda_function?.[functionId]?.environment as { variables: Record<string, string> }).variables;
    expect(variables.PARTNER_TOKENS_SHA256).toBe(`\${var.${variableName}}`);
  });

  it('refuses an authorizer that is not an authorizer function, and AWS_LAMBDA without an authorizer', () => {
    const base = defaultDeclarations();
    const resolverAsAuthorizer: StackDeclarations = {
      ...base,
      api: { ...api, lambdaAuthorizer: { ...api.lambdaAuthorizer, function: 'catalog' } },
    };
    expect(() => synthStacks({ environments: [environments.dev], declarations: resolverAsAuthorizer, artifacts })).toThrow(
      /names catalog as the Lambda authorizer/,
    );
    const { lambdaAuthorizer: _omitted, ...withoutAuthorizer } = api;
    expect(() => synthStacks({ environments: [environments.dev], declarations: { ...base, api: withoutAuthorizer }, artifacts })).toThrow(
      /declares no lambdaAuthorizer/,
    );
    const badTtl: StackDeclarations = { ...base, api: { ...api, lambdaAuthorizer: { ...api.lambdaAuthorizer, resultTtlSeconds: 7200 } } };
    expect(() => synthStacks({ environments: [environments.dev], declarations: badTtl, artifacts })).toThrow(/0 to 3600/);
  });
});

describe('declarations drive the stack', () => {
  it('derives the same routes as the function map', () => {
    const routes = stackRoutes(defaultDeclarations());
    expect(routes.map((r) => [r.coordinate, r.functionName, r.maxBatchSize])).toEqual(
      [...fieldRoutes()].map(([coordinate, r]) => [coordinate, r.functionName, r.maxBatchSize]),
    );
  });

  it('a field added to a copy of the schema and the function map gets its resolver with no stack change', () => {
    const base = defaultDeclarations();
    const declarations: StackDeclarations = {
      ...base,
      schemaSDL: `${base.schemaSDL}\nextend type Query {\n  bestSellers(category: String!): [Product!]! @aws_api_key @aws_cognito_user_pools\n}\n`,
      functions: {
        ...base.functions,
        catalog: {
          ...functions.catalog,
          fields: { ...functions.catalog.fields, 'Query.bestSellers': {}, 'Product.rating': { maxBatchSize: 50 } },
        },
      },
      tables: { ...base.tables, reviews: { ...tables.reviews, ttlAttribute: 'expiresAt' } },
    };
    const stack = requireStack(synthStacks({ environments: [environments.dev], declarations, artifacts }), 'dev').parsed;
    const resolvers = resources(stack, 'aws_appsync_resolver').map(([, body]) => body);
    expect(resolvers).toHaveLength(fieldRoutes().size + 2);
    const [dataSourceId] = resourceWhere(stack, 'aws_appsync_datasource', 'name', 'catalog_lambda');
    const bestSellers = resolvers.find((r) => r.type === 'Query' && r.field === 'bestSellers');
    expect(bestSellers?.data_source).toBe(ref('aws_appsync_datasource', dataSourceId, 'name'));
    expect(evaluateTerraformLiteral(String(bestSellers?.code))).toBe(lambdaResolverCode('Invoke'));
    const rating = resolvers.find((r) => r.type === 'Product' && r.field === 'rating');
    expect(rating?.max_batch_size).toBe(50);
    expect(evaluateTerraformLiteral(String(rating?.code))).toBe(lambdaResolverCode('BatchInvoke'));
    const [, graphql] = resourceWhere(stack, 'aws_appsync_graphql_api', 'name', 'storefront-dev');
    expect(graphql.schema).toBe(declarations.schemaSDL);
    // A declared TTL reaches its table the same way.
    expect(resourceWhere(stack, 'aws_dynamodb_table', 'name', 'storefront-dev-reviews')[1].ttl).toEqual({
      attribute_name: 'expiresAt',
      enabled: true,
    });
  });

  it('refuses a route to a field the schema lacks, or a field served twice', () => {
    const base = defaultDeclarations();
    const missing: StackDeclarations = {
      ...base,
      functions: { ...base.functions, catalog: { ...functions.catalog, fields: { ...functions.catalog.fields, 'Query.nope': {} } } },
    };
    expect(() => synthStacks({ environments: [environments.dev], declarations: missing, artifacts })).toThrow(
      /routes Query\.nope, which the schema lacks/,
    );
    const twice: StackDeclarations = {
      ...base,
      functions: { ...base.functions, reviews: { ...functions.reviews, fields: { ...functions.reviews.fields, 'Query.product': {} } } },
    };
    expect(() => stackRoutes(twice)).toThrow(/served by both catalog and reviews/);
  });
});
