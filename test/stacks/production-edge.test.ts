/**
 * Issue 12's production edge, as synthesized: the WAF web ACL on the API,
 * enhanced metrics and the wider API alarms, S3 remote state with native
 * locking, reserved concurrency sized within the account quota, Lambda code
 * signing and VPC flow logs.
 */
import { describe, expect, it } from 'vitest';
import { api as apiDeclaration } from '../../declarations/api.js';
import {
  environmentNames,
  environments,
  UNRESERVED_CONCURRENCY_MINIMUM,
  validateEnvironment,
  type EnvironmentConfig,
} from '../../stacks/config.js';
import { LAMBDA_SIGNING_PLATFORM, signingProfileName } from '../../stacks/constructs/code-signing.js';
import { bodySizeRule, integerAboveRegex, WAF_BODY_INSPECTION_BYTES, WAF_REGEX_MAX_CHARS } from '../../stacks/constructs/waf.js';
import { defaultDeclarations } from '../../stacks/declarations.js';
import type { DashboardBody } from '../../stacks/lib/dashboard.js';
import { concurrencyPlan } from '../../stacks/lib/concurrency.js';
import type { PolicyDocument } from '../../stacks/lib/policy-document.js';
import { evaluateTerraformLiteral } from '../../stacks/lib/terraform-literal.js';
import { fakeArtifacts, ref, resources, resourceWhere, synthStacks, useSynthesizedStacks, type TerraformJson } from './support/synth.js';

const declarations = defaultDeclarations();
const artifacts = fakeArtifacts(Object.keys(declarations.functions));
const synthesized = useSynthesizedStacks({ artifacts, declarations });

const each = environmentNames.map((name) => [name] as const);
const { parsed } = synthesized;
const prefix = (name: string): string => `storefront-${name}`;
type Body = Record<string, unknown>;
type Rule = { name: string; priority: number; statement: Record<string, Body>; visibility_config: Body } & Body;

function graphqlApi(stack: TerraformJson, name: string): [string, Body] {
  return resourceWhere(stack, 'aws_appsync_graphql_api', 'name', prefix(name));
}

function alarm(stack: TerraformJson, name: string): Body {
  return resourceWhere(stack, 'aws_cloudwatch_metric_alarm', 'alarm_name', name)[1];
}

function topicArn(stack: TerraformJson, name: string): string {
  return ref('aws_sns_topic', resourceWhere(stack, 'aws_sns_topic', 'name', `${prefix(name)}-alarms`)[0], 'arn');
}

function dashboard(stack: TerraformJson, name: string): DashboardBody {
  const [, body] = resourceWhere(stack, 'aws_cloudwatch_dashboard', 'dashboard_name', prefix(name));
  return JSON.parse(evaluateTerraformLiteral(String(body.dashboard_body))) as DashboardBody;
}

/** Each metric widget's rows by title: `[namespace, metric name, ...dimensions, options]`. */
function metricTitles(body: DashboardBody): Map<string, unknown[][]> {
  return new Map(
    body.widgets.flatMap((widget): [string, unknown[][]][] =>
      widget.type === 'metric' ? [[widget.properties.title, widget.properties.metrics.map((row) => [...row])]] : [],
    ),
  );
}

function rolePolicy(stack: TerraformJson, roleName: string): { trust: PolicyDocument; policy: PolicyDocument } {
  const [roleId, role] = resourceWhere(stack, 'aws_iam_role', 'name', roleName);
  const [, policy] = resourceWhere(stack, 'aws_iam_role_policy', 'role', ref('aws_iam_role', roleId, 'id'));
  return {
    trust: JSON.parse(String(role.assume_role_policy)) as PolicyDocument,
    policy: JSON.parse(String(policy.policy)) as PolicyDocument,
  };
}

describe('WAF web ACL on the API', () => {
  it('is on in staging and prod, off in dev', () => {
    expect(environments.dev).not.toHaveProperty('waf');
    expect(resources(parsed('dev'), 'aws_wafv2_web_acl')).toHaveLength(0);
    expect(resources(parsed('dev'), 'aws_wafv2_web_acl_association')).toHaveLength(0);
  });

  it.each([['staging'], ['prod']] as const)('%s: a REGIONAL ACL, associated with the API, with the configured rate limits', (name) => {
    const stack = parsed(name);
    const waf = environments[name].waf;
    const [aclId, acl] = resourceWhere(stack, 'aws_wafv2_web_acl', 'name', `${prefix(name)}-api`);
    expect(acl).toMatchObject({ scope: 'REGIONAL', default_action: { allow: {} } });
    const [[, association]] = resources(stack, 'aws_wafv2_web_acl_association') as [[string, Body]];
    expect(association).toEqual({
      resource_arn: ref('aws_appsync_graphql_api', graphqlApi(stack, name)[0], 'arn'),
      web_acl_arn: ref('aws_wafv2_web_acl', aclId, 'arn'),
    });

    const rules = acl.rule as Rule[];
    expect(rules.map((rule) => [rule.priority, rule.name])).toEqual([
      [0, 'rate-per-ip'],
      [1, 'rate-per-api-key'],
      [2, 'body-size'],
      [3, 'AWSManagedRulesKnownBadInputsRuleSet'],
      [4, 'AWSManagedRulesCommonRuleSet'],
    ]);
    const byName = new Map(rules.map((rule) => [rule.name, rule]));
    expect(byName.get('rate-per-ip')).toMatchObject({
      action: { block: {} },
      statement: {
        rate_based_statement: { aggregate_key_type: 'IP', limit: waf.perIp.limit, evaluation_window_sec: waf.perIp.windowSeconds },
      },
    });
    expect(byName.get('rate-per-api-key')).toMatchObject({
      action: { block: {} },
      statement: {
        rate_based_statement: {
          aggregate_key_type: 'CUSTOM_KEYS',
          limit: waf.perApiKey.limit,
          evaluation_window_sec: waf.perApiKey.windowSeconds,
          custom_key: [{ header: { name: 'x-api-key', text_transformation: [{ priority: 0, type: 'NONE' }] } }],
        },
      },
    });
    // Every rule and the ACL itself publish metrics and sampled requests.
    for (const visibility of [acl.visibility_config, ...rules.map((rule) => rule.visibility_config)]) {
      expect(visibility).toMatchObject({ cloudwatch_metrics_enabled: true, sampled_requests_enabled: true });
    }
  });

  it('runs the managed rule groups, counting (not blocking) the common set 8 KB body rule under a 1 MB declared limit', () => {
    expect(apiDeclaration.limits.maxRequestBytes).toBeGreaterThan(WAF_BODY_INSPECTION_BYTES);
    const rules = resourceWhere(parsed('prod'), 'aws_wafv2_web_acl', 'name', 'storefront-prod-api')[1].rule as Rule[];
    const managed = rules.filter((rule) => 'managed_rule_group_statement' in rule.statement);
    expect(managed.map((rule) => rule.override_action)).toEqual([{ none: {} }, { none: {} }]);
    expect(managed.map((rule) => rule.statement.managed_rule_group_statement)).toEqual([
      { vendor_name: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' },
      {
        vendor_name: 'AWS',
        name: 'AWSManagedRulesCommonRuleSet',
        rule_action_override: [{ name: 'SizeRestrictions_BODY', action_to_use: { count: {} } }],
      },
    ]);
  });

  it('blocks a declared Content-Length above the declared limit (WAF sees only 8 KB of an AppSync body)', () => {
    const rules = resourceWhere(parsed('prod'), 'aws_wafv2_web_acl', 'name', 'storefront-prod-api')[1].rule as Rule[];
    const rule = rules.find((candidate) => candidate.name === 'body-size');
    const statement = rule?.statement.regex_match_statement as { regex_string: string; field_to_match: unknown } | undefined;
    expect(rule?.action).toEqual({ block: {} });
    expect(statement?.field_to_match).toEqual({ single_header: { name: 'content-length' } });
    // What WAF receives after Terraform's own escapes are undone.
    const regex = new RegExp(statement?.regex_string ?? '');
    const limit = apiDeclaration.limits.maxRequestBytes;
    for (const length of [0, 1, 8192, limit - 1, limit]) expect(regex.test(String(length)), `${length}`).toBe(false);
    for (const length of [limit + 1, limit + 9, limit * 2, 10_000_000, 99_999_999_999])
      expect(regex.test(String(length)), `${length}`).toBe(true);
  });

  it('matches exactly the integers above a limit, for any limit', () => {
    for (const limit of [0, 7, 9, 10, 99, 100, 4096, 8191, 8192, 65_535, 1_048_576, 999_999]) {
      const regex = new RegExp(integerAboveRegex(limit));
      for (let value = Math.max(0, limit - 120); value <= limit + 120; value++) {
        expect(regex.test(String(value)), `${value} vs ${limit}`).toBe(value > limit);
      }
      expect(regex.test(`00${limit + 1}`)).toBe(true);
      expect(regex.test(`${limit}0`)).toBe(limit > 0);
      expect(regex.test('-1')).toBe(false);
      expect(regex.test('')).toBe(false);
      expect(integerAboveRegex(limit).length).toBeLessThanOrEqual(WAF_REGEX_MAX_CHARS);
    }
  });

  it('checks the body itself when the declared limit fits in what WAF inspects', () => {
    expect(bodySizeRule('p', 2, 4096).statement).toEqual({
      size_constraint_statement: {
        comparison_operator: 'GT',
        size: 4096,
        field_to_match: { body: { oversize_handling: 'MATCH' } },
        text_transformation: [{ priority: 0, type: 'NONE' }],
      },
    });
  });

  it.each([['staging'], ['prod']] as const)('%s: alarms on blocked requests to the alarm topic and graphs the ACL', (name) => {
    const stack = parsed(name);
    expect(alarm(stack, `${prefix(name)}-waf-blocked-requests`)).toMatchObject({
      namespace: 'AWS/WAFV2',
      metric_name: 'BlockedRequests',
      dimensions: { WebACL: `${prefix(name)}-api`, Region: environments[name].region, Rule: 'ALL' },
      statistic: 'Sum',
      threshold: environments[name].alarms.wafBlockedRequests,
      alarm_actions: [topicArn(stack, name)],
      ok_actions: [topicArn(stack, name)],
    });
    const widget = metricTitles(dashboard(stack, name)).get(`WAF ${prefix(name)}-api: requests`);
    expect(widget?.map((row) => row[1])).toEqual(['AllowedRequests', 'BlockedRequests', 'CountedRequests']);
  });

  it('rejects thresholds WAF would reject', () => {
    const bad = (waf: EnvironmentConfig['waf']): EnvironmentConfig => ({ ...environments.prod, waf });
    expect(() =>
      validateEnvironment(bad({ perIp: { limit: 9, windowSeconds: 300 }, perApiKey: { limit: 100, windowSeconds: 300 } })),
    ).toThrow(/waf\.perIp\.limit/);
    expect(() =>
      validateEnvironment(bad({ perIp: { limit: 100, windowSeconds: 300 }, perApiKey: { limit: 100, windowSeconds: 30 as 60 } })),
    ).toThrow(/waf\.perApiKey\.windowSeconds/);
  });
});

describe('enhanced metrics and the wider API alarms', () => {
  it.each(each)('%s: enhanced metrics as configured (resolver, data source and operation level in prod)', (name) => {
    const [, body] = graphqlApi(parsed(name), name);
    if (name === 'prod') {
      expect(body.enhanced_metrics_config).toEqual({
        resolver_level_metrics_behavior: 'FULL_REQUEST_RESOLVER_METRICS',
        data_source_level_metrics_behavior: 'FULL_REQUEST_DATA_SOURCE_METRICS',
        operation_level_metrics_config: 'ENABLED',
      });
    } else {
      expect(body.enhanced_metrics_config).toBeUndefined();
    }
  });

  it.each(each)('%s: alarms on the 4XX rate, real-time connect errors and publish errors, to the alarm topic', (name) => {
    const stack = parsed(name);
    const { alarms } = environments[name];
    const dimensions = { GraphQLAPIId: ref('aws_appsync_graphql_api', graphqlApi(stack, name)[0], 'id') };
    const metricsOf = (body: Body) =>
      (body.metric_query as { metric?: { metric_name: string; dimensions: unknown; stat: string } }[]).flatMap((query) =>
        query.metric ? [[query.metric.metric_name, query.metric.dimensions, query.metric.stat]] : [],
      );
    const expressionOf = (body: Body) =>
      (body.metric_query as { expression?: string; return_data?: boolean }[]).filter((query) => query.return_data).map((q) => q.expression);

    const clientErrors = alarm(stack, `${prefix(name)}-appsync-4xx-rate`);
    expect(clientErrors).toMatchObject({ threshold: alarms.appsyncClientErrorRatePercent, alarm_actions: [topicArn(stack, name)] });
    expect(metricsOf(clientErrors)).toEqual([
      ['4XXError', dimensions, 'Sum'],
      ['Requests', dimensions, 'Sum'],
    ]);
    expect(expressionOf(clientErrors)).toEqual(['IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)']);

    const connect = alarm(stack, `${prefix(name)}-appsync-connect-errors`);
    expect(connect).toMatchObject({ threshold: alarms.appsyncConnectErrors, alarm_actions: [topicArn(stack, name)] });
    expect(metricsOf(connect)).toEqual([
      ['ConnectClientError', dimensions, 'Sum'],
      ['ConnectServerError', dimensions, 'Sum'],
    ]);
    const publish = alarm(stack, `${prefix(name)}-appsync-publish-errors`);
    expect(publish).toMatchObject({ threshold: alarms.appsyncPublishErrors, alarm_actions: [topicArn(stack, name)] });
    expect(metricsOf(publish)).toEqual([
      ['PublishDataMessageClientError', dimensions, 'Sum'],
      ['PublishDataMessageServerError', dimensions, 'Sum'],
    ]);
    expect(expressionOf(publish)).toEqual(['FILL(client, 0) + FILL(server, 0)']);
  });

  it.each(each)('%s: the dashboard graphs real-time connects, publishes and the tokens behind throttling', (name) => {
    const titles = metricTitles(dashboard(parsed(name), name));
    expect(titles.get('API: real-time connects')?.map((row) => row[1])).toEqual([
      'ConnectSuccess',
      'ConnectClientError',
      'ConnectServerError',
    ]);
    expect(titles.get('API: subscription messages published')?.map((row) => row[1])).toEqual([
      'PublishDataMessageSuccess',
      'PublishDataMessageClientError',
      'PublishDataMessageServerError',
    ]);
    expect(titles.get('API: tokens consumed, active connections')?.map((row) => row[1])).toEqual(['TokensConsumed', 'ActiveConnections']);
  });
});

describe('Terraform state', () => {
  it('keeps dev local', () => {
    expect(parsed('dev').terraform.backend).toEqual({ local: { path: '../../../terraform.dev.tfstate' } });
  });

  it.each([['staging'], ['prod']] as const)('%s: encrypted S3 state with S3 native locking, which needs Terraform 1.10', (name) => {
    const backend = environments[name].backend;
    expect(backend.kind).toBe('s3');
    const terraform = parsed(name).terraform as TerraformJson['terraform'] & { required_version?: string };
    expect(terraform.backend).toEqual({
      s3: {
        bucket: 'storefront-terraform-state',
        key: `storefront/${name}/terraform.tfstate`,
        region: 'eu-west-1',
        encrypt: true,
        use_lockfile: true,
      },
    });
    expect(terraform.required_version).toBe('>= 1.10.0');
  });

  it('rejects a bucket, key or region S3 would not take', () => {
    const withBackend = (backend: EnvironmentConfig['backend']): EnvironmentConfig => ({ ...environments.prod, backend });
    expect(() => validateEnvironment(withBackend({ kind: 's3', bucket: 'Bad_Bucket', key: 'k', region: 'eu-west-1' }))).toThrow(
      /backend\.bucket/,
    );
    expect(() => validateEnvironment(withBackend({ kind: 's3', bucket: 'state', key: '/k', region: 'eu-west-1' }))).toThrow(/backend\.key/);
    expect(() => validateEnvironment(withBackend({ kind: 's3', bucket: 'state', key: 'k', region: 'europe' }))).toThrow(/backend\.region/);
  });
});

describe('reserved concurrency', () => {
  it('gives every prod function its size from the declarations, within the account limit', () => {
    const stack = parsed('prod');
    const budget = environments.prod.reservedConcurrency;
    let total = 0;
    for (const [name, declaration] of Object.entries(declarations.functions)) {
      const expected =
        declaration.kind === 'stream' ? budget.perKind.stream * declaration.eventSources.length : budget.perKind[declaration.kind];
      const [, fn] = resourceWhere(stack, 'aws_lambda_function', 'function_name', `storefront-prod-${name}`);
      expect(fn.reserved_concurrent_executions, name).toBe(expected);
      total += expected;
    }
    expect(total).toBeLessThanOrEqual(budget.accountLimit - UNRESERVED_CONCURRENCY_MINIMUM);
    // Provisioned concurrency stays within the reservation.
    const provisioned = resources(stack, 'aws_lambda_provisioned_concurrency_config').map(
      ([, body]) => body.provisioned_concurrent_executions,
    );
    expect(provisioned).toEqual([2]);
  });

  it('reserves nothing where the environment has no budget', () => {
    for (const name of ['dev', 'staging']) {
      for (const [, fn] of resources(parsed(name), 'aws_lambda_function')) expect(fn.reserved_concurrent_executions).toBeUndefined();
    }
  });

  it('refuses a plan over the account limit, and an override above the reservation', () => {
    const overBudget = {
      ...environments.prod,
      reservedConcurrency: { accountLimit: 700, perKind: { resolver: 200, authorizer: 50, stream: 10 } },
    };
    expect(() => concurrencyPlan(declarations.functions, overBudget)).toThrow(
      /Reserved concurrency 670 .* exceeds the account limit 700 .*\(600\)/,
    );
    expect(() => synthStacks({ environments: [overBudget], artifacts, declarations })).toThrow(/exceeds the account limit/);
    const override = { ...environments.prod, concurrency: { catalog: { reserved: 5, provisioned: 2 }, orders: { reserved: 30 } } };
    const plan = concurrencyPlan(declarations.functions, override);
    expect([plan.get('catalog')?.reserved, plan.get('orders')?.reserved, plan.get('reviews')?.reserved]).toEqual([5, 30, 200]);
    expect(() => concurrencyPlan(declarations.functions, { ...environments.prod, concurrency: { catalog: { provisioned: 300 } } })).toThrow(
      /provisioned concurrency \(300\) exceeds reserved concurrency \(200\)/,
    );
    expect(() =>
      validateEnvironment({
        ...environments.prod,
        reservedConcurrency: { accountLimit: 1000, perKind: { resolver: 0, authorizer: 1, stream: 1 } },
      }),
    ).toThrow(/perKind\.resolver/);
  });
});

describe('Lambda code signing', () => {
  it('attaches one code signing config, trusting one Signer profile for Lambda, to every prod function', () => {
    const stack = parsed('prod');
    const [profileId, profile] = resourceWhere(stack, 'aws_signer_signing_profile', 'platform_id', LAMBDA_SIGNING_PLATFORM);
    expect(profile.name).toBe(signingProfileName('storefront-prod'));
    expect(signingProfileName('storefront-prod')).toBe('storefront_prod_lambda');
    const [[configId, config]] = resources(stack, 'aws_lambda_code_signing_config') as [[string, Body]];
    expect(config).toMatchObject({
      allowed_publishers: { signing_profile_version_arns: [ref('aws_signer_signing_profile', profileId, 'version_arn')] },
      policies: { untrusted_artifact_on_deployment: environments.prod.codeSigning.untrustedArtifactOnDeployment },
    });
    const functions = resources(stack, 'aws_lambda_function');
    expect(functions).toHaveLength(Object.keys(declarations.functions).length);
    for (const [, fn] of functions) expect(fn.code_signing_config_arn).toBe(ref('aws_lambda_code_signing_config', configId, 'arn'));
  });

  it('is off where the environment does not ask for it', () => {
    for (const name of ['dev', 'staging']) {
      expect(resources(parsed(name), 'aws_lambda_code_signing_config')).toHaveLength(0);
      for (const [, fn] of resources(parsed(name), 'aws_lambda_function')) expect(fn.code_signing_config_arn).toBeUndefined();
    }
  });
});

describe('VPC flow logs', () => {
  it.each([['staging'], ['prod']] as const)(
    '%s: every flow of the cache VPC, to an encrypted log group, through a least-privilege role',
    (name) => {
      const stack = parsed(name);
      const [vpcId] = resources(stack, 'aws_vpc')[0] as [string, Body];
      const [groupId, group] = resourceWhere(stack, 'aws_cloudwatch_log_group', 'name', `/aws/vpc/flow-logs/${prefix(name)}`);
      expect(group.retention_in_days).toBe(environments[name].logRetentionDays);
      expect(String(group.kms_key_id)).toMatch(/^\$\{aws_kms_key\.[^.]+\.arn\}$/);
      const [roleId] = resourceWhere(stack, 'aws_iam_role', 'name', `${prefix(name)}-vpc-flow-logs`);
      const [[, flowLog]] = resources(stack, 'aws_flow_log') as [[string, Body]];
      expect(flowLog).toMatchObject({
        vpc_id: ref('aws_vpc', vpcId, 'id'),
        traffic_type: 'ALL',
        log_destination_type: 'cloud-watch-logs',
        log_destination: ref('aws_cloudwatch_log_group', groupId, 'arn'),
        iam_role_arn: ref('aws_iam_role', roleId, 'arn'),
      });

      const { trust, policy } = rolePolicy(stack, `${prefix(name)}-vpc-flow-logs`);
      expect(trust.Statement).toEqual([
        expect.objectContaining({ Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole' }),
      ]);
      const groupArn = ref('aws_cloudwatch_log_group', groupId, 'arn');
      expect(policy.Statement.map(({ Action, Resource }) => [Action, Resource])).toEqual([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], [`${groupArn}:*`]],
        [['logs:DescribeLogStreams'], [groupArn]],
      ]);
    },
  );

  it('dev has no VPC, hence no flow log', () => {
    expect(resources(parsed('dev'), 'aws_vpc')).toHaveLength(0);
    expect(resources(parsed('dev'), 'aws_flow_log')).toHaveLength(0);
  });
});
