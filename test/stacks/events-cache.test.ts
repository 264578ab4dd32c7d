import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredEventSources } from '../../declarations/event-sources.js';
import { usesCache } from '../../declarations/function-environment.js';
import { physicalTableName, tables } from '../../declarations/tables.js';
import { functionNames, functions } from '../../declarations/functions.js';
import { environments, type CacheConfig, type EnvironmentConfig } from '../../stacks/config.js';
import { DAX_TLS_PORT, REDIS_PORT } from '../../stacks/constructs/cache.js';
import { DEAD_LETTER_RETENTION_SECONDS } from '../../stacks/constructs/events.js';
import type { PolicyDocument, PolicyStatement } from '../../stacks/lib/policy-document.js';
import { lambdaVpcAccessActions } from '../../stacks/policy/allowed-wildcards.js';
import { auditStack } from './support/policy-audit.js';
import {
  fakeArtifacts,
  ref,
  removeTempDirs,
  requireStack,
  resources,
  resourceWhere,
  synthStacks,
  type TerraformJson,
} from './support/synth.js';

/** Event source mappings with their dead letters, and the cache with its network, per `config.cache`. */

const artifacts = fakeArtifacts(functionNames);
const withCache = (cache: CacheConfig): EnvironmentConfig => ({ ...environments.staging, cache });
const synthOne = (config: EnvironmentConfig): TerraformJson =>
  requireStack(synthStacks({ environments: [config], artifacts }), config.name).parsed;

let dev: TerraformJson;
let staging: TerraformJson;
let replicationGroup: TerraformJson;
let dax: TerraformJson;
beforeAll(() => {
  const stacks = synthStacks({ artifacts });
  dev = requireStack(stacks, 'dev').parsed;
  staging = requireStack(stacks, 'staging').parsed;
  replicationGroup = synthOne(withCache({ kind: 'elasticache', mode: 'replication-group', nodeType: 'cache.t4g.small' }));
  dax = synthOne(withCache({ kind: 'dax', nodeType: 'dax.t3.small', replicationFactor: 3 }));
});
afterAll(removeTempDirs);

const functionOf = (stack: TerraformJson, prefix: string, fn: string) =>
  resourceWhere(stack, 'aws_lambda_function', 'function_name', `${prefix}-${fn}`);

function roleStatements(stack: TerraformJson, prefix: string, fn: string): PolicyStatement[] {
  const [, body] = functionOf(stack, prefix, fn);
  const roleId = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(String(body.role))?.[1] ?? '';
  const [policy] = resources(stack, 'aws_iam_role_policy').filter(([, p]) => p.role === ref('aws_iam_role', roleId, 'id'));
  return (JSON.parse(String(policy?.[1].policy)) as PolicyDocument).Statement.slice();
}
const idOf = (reference: unknown, type: string): string => new RegExp(`^\\$\\{${type}\\.([^.]+)\\.`).exec(String(reference))?.[1] ?? '';

describe('event source mappings', () => {
  const sources = declaredEventSources(functions);

  it('creates one mapping per declared event source, with the declared settings, on the live alias', () => {
    const mappings = resources(dev, 'aws_lambda_event_source_mapping');
    expect(mappings).toHaveLength(sources.length);
    for (const { functionName, source } of sources) {
      const [tableId] = resourceWhere(dev, 'aws_dynamodb_table', 'name', physicalTableName('storefront-dev', source.table));
      const matching = mappings.filter(([, body]) => body.event_source_arn === ref('aws_dynamodb_table', tableId, 'stream_arn'));
      expect(matching).toHaveLength(1);
      const body = matching[0]![1];
      const [fnId] = functionOf(dev, 'storefront-dev', functionName);
      const aliasId = idOf(body.function_name, 'aws_lambda_alias');
      expect(dev.resource.aws_lambda_alias?.[aliasId]).toMatchObject({
        name: 'live',
        function_name: ref('aws_lambda_function', fnId, 'function_name'),
      });
      expect(body).toMatchObject({
        starting_position: source.startingPosition,
        batch_size: source.batchSize,
        maximum_batching_window_in_seconds: source.maximumBatchingWindowInSeconds,
        maximum_retry_attempts: source.maximumRetryAttempts,
        bisect_batch_on_function_error: source.bisectBatchOnFunctionError,
        function_response_types: ['ReportBatchItemFailures'],
      });
    }
  });

  it('sends what exhausts its retries to its own encrypted 14-day queue, which only that function may send to, and alarms on it', () => {
    const queues = resources(dev, 'aws_sqs_queue');
    expect(queues).toHaveLength(sources.filter(({ source }) => source.deadLetter).length);
    const statements = roleStatements(dev, 'storefront-dev', 'stream');
    for (const [, mapping] of resources(dev, 'aws_lambda_event_source_mapping')) {
      const destination = (mapping.destination_config as { on_failure: { destination_arn: string } }).on_failure.destination_arn;
      const queueId = idOf(destination, 'aws_sqs_queue');
      const queue = dev.resource.aws_sqs_queue?.[queueId];
      expect(queue).toMatchObject({
        message_retention_seconds: DEAD_LETTER_RETENTION_SECONDS,
        kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\./),
      });
      expect(statements).toContainEqual(
        expect.objectContaining({ Action: ['sqs:SendMessage'], Resource: [ref('aws_sqs_queue', queueId, 'arn')] }),
      );
      const alarms = resources(dev, 'aws_cloudwatch_metric_alarm').filter(
        ([, alarm]) => (alarm.dimensions as { QueueName?: string } | undefined)?.QueueName === ref('aws_sqs_queue', queueId, 'name'),
      );
      expect(alarms).toHaveLength(1);
    }
    // The send grant names each queue exactly; no other function may send to them.
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('sqs:')).flatMap((s) => s.Resource)).toHaveLength(queues.length);
    expect(roleStatements(dev, 'storefront-dev', 'catalog').filter((s) => JSON.stringify(s.Action).includes('sqs:'))).toEqual([]);
  });
});

describe('cache network', () => {
  it('dev (cache none): no VPC, no cache, no function in a VPC', () => {
    for (const type of ['aws_vpc', 'aws_elasticache_serverless_cache', 'aws_dax_cluster', 'aws_elasticache_replication_group'])
      expect(resources(dev, type)).toEqual([]);
    for (const [, fn] of resources(dev, 'aws_lambda_function')) expect(fn.vpc_config).toBeUndefined();
  });

  it.each([
    ['serverless', () => staging],
    ['replication group', () => replicationGroup],
    ['dax', () => dax],
  ] as const)('%s: exactly the cache-using functions join the VPC, with the VPC-access grant', (_, stack) => {
    const s = stack();
    const [functionsSg] = resourceWhere(s, 'aws_security_group', 'name', 'storefront-staging-functions');
    for (const fn of functionNames) {
      const [, body] = functionOf(s, 'storefront-staging', fn);
      const vpcGrant = roleStatements(s, 'storefront-staging', fn).filter((st) => st.Sid === 'VpcNetworkInterfaces');
      if (usesCache(functions[fn])) {
        expect(body.vpc_config).toEqual({
          subnet_ids: expect.any(Array),
          security_group_ids: [ref('aws_security_group', functionsSg, 'id')],
        });
        expect((body.vpc_config as { subnet_ids: string[] }).subnet_ids.length).toBeGreaterThanOrEqual(2);
        expect(vpcGrant).toEqual([{ Sid: 'VpcNetworkInterfaces', Effect: 'Allow', Action: [...lambdaVpcAccessActions], Resource: '*' }]);
      } else {
        expect(body.vpc_config).toBeUndefined();
        expect(vpcGrant).toEqual([]);
        expect((body.environment as { variables: Record<string, string> }).variables.CACHE_BACKEND).toBeUndefined();
      }
    }
    expect(functionNames.filter((fn) => !usesCache(functions[fn]))).toContain('authorizer');
    // Private subnets in 2 AZs, a private route table with the DynamoDB gateway endpoint, no internet gateway.
    expect(resources(s, 'aws_subnet')).toHaveLength(2);
    expect(resources(s, 'aws_internet_gateway')).toEqual([]);
    expect(resources(s, 'aws_nat_gateway')).toEqual([]);
    const [routeTable] = resources(s, 'aws_route_table')[0]!;
    expect(resourceWhere(s, 'aws_vpc_endpoint', 'vpc_endpoint_type', 'Gateway')[1]).toMatchObject({
      service_name: 'com.amazonaws.eu-west-1.dynamodb',
      route_table_ids: [ref('aws_route_table', routeTable, 'id')],
    });
    expect(auditStack(s)).toEqual([]);
  });

  it.each([
    ['serverless', () => staging, REDIS_PORT],
    ['dax', () => dax, DAX_TLS_PORT],
  ] as const)(
    '%s: the cache admits the functions only, on its port; the functions send only to the cache, DynamoDB (and endpoints)',
    (_, stack, port) => {
      const s = stack();
      const [functionsSg] = resourceWhere(s, 'aws_security_group', 'name', 'storefront-staging-functions');
      const [cacheSg] = resourceWhere(s, 'aws_security_group', 'name', 'storefront-staging-cache');
      const ingress = resources(s, 'aws_vpc_security_group_ingress_rule').filter(
        ([, r]) => r.security_group_id === ref('aws_security_group', cacheSg, 'id'),
      );
      expect(ingress.map(([, r]) => r)).toEqual([
        expect.objectContaining({
          ip_protocol: 'tcp',
          from_port: port,
          to_port: port,
          referenced_security_group_id: ref('aws_security_group', functionsSg, 'id'),
        }),
      ]);
      const egress = resources(s, 'aws_vpc_security_group_egress_rule').filter(
        ([, r]) => r.security_group_id === ref('aws_security_group', functionsSg, 'id'),
      );
      expect(egress.map(([, r]) => r.referenced_security_group_id ?? r.prefix_list_id).sort()).toEqual(
        [ref('aws_security_group', cacheSg, 'id'), expect.stringMatching(/aws_vpc_endpoint\..+\.prefix_list_id/)].sort(),
      );
      for (const [, rule] of [
        ...resources(s, 'aws_vpc_security_group_ingress_rule'),
        ...resources(s, 'aws_vpc_security_group_egress_rule'),
      ]) {
        expect(rule.cidr_ipv4).toBeUndefined();
        expect(rule.cidr_ipv6).toBeUndefined();
      }
      // Nothing lands in an open default group.
      expect(resources(s, 'aws_default_security_group')[0]?.[1]).toMatchObject({ ingress: [], egress: [] });
    },
  );

  it("serverless: Valkey with our key, in the private subnets, its endpoint in the functions' environment", () => {
    const [cacheId, cache] = resources(staging, 'aws_elasticache_serverless_cache')[0]!;
    expect(cache).toMatchObject({
      engine: 'valkey',
      kms_key_id: expect.stringMatching(/^\$\{aws_kms_key\./),
      subnet_ids: expect.any(Array),
    });
    const variables = (functionOf(staging, 'storefront-staging', 'catalog')[1].environment as { variables: Record<string, string> })
      .variables;
    expect(variables).toMatchObject({
      CACHE_BACKEND: 'redis',
      REDIS_TLS: 'true',
      REDIS_CLUSTER_NODES: `\${aws_elasticache_serverless_cache.${cacheId}.endpoint[0].address}:\${aws_elasticache_serverless_cache.${cacheId}.endpoint[0].port}`,
    });
  });

  it('replication group: TLS, encrypted with our key, AUTH token generated into a secret only the cache users may read, never output', () => {
    const [, group] = resources(replicationGroup, 'aws_elasticache_replication_group')[0]!;
    const [secretId] = resources(replicationGroup, 'aws_secretsmanager_secret')[0]!;
    const [versionId, version] = resources(replicationGroup, 'aws_secretsmanager_secret_version')[0]!;
    expect(group).toMatchObject({
      engine: 'valkey',
      transit_encryption_enabled: true,
      at_rest_encryption_enabled: 'true',
      automatic_failover_enabled: true,
      multi_az_enabled: true,
      auth_token: ref('aws_secretsmanager_secret_version', versionId, 'secret_string'),
    });
    expect(version).toMatchObject({
      secret_id: ref('aws_secretsmanager_secret', secretId, 'id'),
      lifecycle: { ignore_changes: ['secret_string'] },
    });
    expect(String(version.secret_string)).toMatch(/^\$\{data\.aws_secretsmanager_random_password\./);
    const secretArn = ref('aws_secretsmanager_secret', secretId, 'arn');
    for (const fn of functionNames.filter((name) => usesCache(functions[name]))) {
      const statements = roleStatements(replicationGroup, 'storefront-staging', fn);
      expect(statements).toContainEqual({
        Sid: 'CacheAuthToken',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: [secretArn],
      });
      expect(
        (functionOf(replicationGroup, 'storefront-staging', fn)[1].environment as { variables: Record<string, string> }).variables,
      ).toMatchObject({
        CACHE_BACKEND: 'redis',
        REDIS_AUTH_SECRET_ARN: secretArn,
        REDIS_TLS: 'true',
        REDIS_URL: expect.stringMatching(/^rediss:\/\/\$\{aws_elasticache_replication_group\..+\.primary_endpoint_address\}:6379$/),
      });
    }
    expect(
      roleStatements(replicationGroup, 'storefront-staging', 'authorizer').filter((s) =>
        JSON.stringify(s.Action).includes('secretsmanager'),
      ),
    ).toEqual([]);
    // The functions reach Secrets Manager through a private interface endpoint.
    expect(resourceWhere(replicationGroup, 'aws_vpc_endpoint', 'vpc_endpoint_type', 'Interface')[1]).toMatchObject({
      service_name: 'com.amazonaws.eu-west-1.secretsmanager',
      private_dns_enabled: true,
    });
    for (const output of Object.values(replicationGroup.output ?? {}))
      expect(output.value).not.toMatch(/secret_string|random_password|auth_token/);
  });

  it("dax: TLS endpoint, encrypted, item and query TTL within the cache policy's staleness bound, reads granted on the cluster", () => {
    const [clusterId, cluster] = resources(dax, 'aws_dax_cluster')[0]!;
    expect(cluster).toMatchObject({
      cluster_endpoint_encryption_type: 'TLS',
      server_side_encryption: { enabled: true },
      replication_factor: 3,
    });
    const [, parameters] = resources(dax, 'aws_dax_parameter_group')[0]!;
    const bound = tables.products.cache.maxStalenessMs;
    for (const name of ['record-ttl-millis', 'query-ttl-millis']) {
      const parameter = (parameters.parameters as { name: string; value: string }[]).find((p) => p.name === name);
      expect(Number(parameter?.value)).toBeLessThanOrEqual(bound);
    }
    const [, role] = resourceWhere(dax, 'aws_iam_role', 'name', 'storefront-staging-dax');
    expect(String(role.assume_role_policy)).toContain('dax.amazonaws.com');
    const catalog = roleStatements(dax, 'storefront-staging', 'catalog');
    expect(catalog).toContainEqual({
      Sid: 'DaxReads',
      Effect: 'Allow',
      Action: ['dax:GetItem', 'dax:BatchGetItem'],
      Resource: [ref('aws_dax_cluster', clusterId, 'arn')],
    });
    expect(
      (functionOf(dax, 'storefront-staging', 'catalog')[1].environment as { variables: Record<string, string> }).variables,
    ).toMatchObject({
      CACHE_BACKEND: 'dax',
      DAX_ENDPOINT: `daxs://\${aws_dax_cluster.${clusterId}.cluster_address}`,
    });
  });
});

describe('AppSync response cache (optional)', () => {
  it('is absent unless configured and, when configured, encrypted with a TTL within the staleness bound', () => {
    // Staging configures one (test/stacks/resolver-caching.test.ts); without `api.cache` there is none.
    const uncached = synthOne({ ...environments.staging, api: { ...environments.staging.api, cache: undefined } });
    expect(resources(uncached, 'aws_appsync_api_cache')).toEqual([]);
    const cached = synthOne({
      ...environments.staging,
      api: { ...environments.staging.api, cache: { type: 'SMALL', behavior: 'PER_RESOLVER_CACHING', ttlSeconds: 5 } },
    });
    const [[, body]] = resources(cached, 'aws_appsync_api_cache') as [[string, Record<string, unknown>]];
    expect(body).toMatchObject({
      type: 'SMALL',
      api_caching_behavior: 'PER_RESOLVER_CACHING',
      ttl: 5,
      at_rest_encryption_enabled: true,
      transit_encryption_enabled: true,
    });
    expect(() =>
      synthOne({
        ...environments.staging,
        api: { ...environments.staging.api, cache: { type: 'SMALL', behavior: 'FULL_REQUEST_CACHING', ttlSeconds: 60 } },
      }),
    ).toThrow(/staleness bound/);
  });
});
