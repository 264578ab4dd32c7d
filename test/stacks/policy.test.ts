import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentNames } from '../../stacks/config.js';
import { allowedWildcards } from '../../stacks/policy/allowed-wildcards.js';
import { auditStack, stackEnvironment } from './support/policy-audit.js';
import { removeTempDirs, requireStack, synthStacks, type SynthesizedStack, type TerraformJson } from './support/synth.js';

let stacks: Map<string, SynthesizedStack>;

beforeAll(() => {
  stacks = synthStacks();
});
afterAll(removeTempDirs);

describe('policy audit of the synthesized stacks', () => {
  it.each(environmentNames.map((name) => [name] as const))(
    '%s: no unlisted IAM wildcard, nothing unencrypted, every log group with retention, the API key with an expiry, every alarm heard',
    (name) => {
      expect(auditStack(requireStack(stacks, name).parsed)).toEqual([]);
    },
  );

  it('explains every allow-list entry', () => {
    for (const entry of allowedWildcards) expect(entry.why.length).toBeGreaterThan(40);
  });

  it('catches what it is there to catch', () => {
    const policy = (statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
    const bad: TerraformJson = {
      terraform: {},
      resource: {
        aws_iam_role_policy: {
          star: { policy: policy([{ Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:eu-west-1:1:table/t' }]) },
          everything: { policy: policy([{ Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: '*' }]) },
          xrayPlusMore: { policy: policy([{ Effect: 'Allow', Action: ['xray:PutTraceSegments', 's3:GetObject'], Resource: '*' }]) },
          streamsOfAnything: { policy: policy([{ Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: 'arn:aws:logs:*:*:*' }]) },
          hcl: { policy: '${jsonencode({})}' },
        },
        aws_kms_key: {
          open: {
            enable_key_rotation: false,
            policy: policy([{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }]),
          },
        },
        aws_iam_role: {
          trustsAll: { assume_role_policy: policy([{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }]) },
        },
        aws_iam_role_policy_attachment: { admin: { policy_arn: 'arn:aws:iam::aws:policy/AdministratorAccess' } },
        aws_dynamodb_table: { plain: { server_side_encryption: { enabled: false } } },
        aws_cloudwatch_log_group: { forever: { name: '/x' } },
        aws_appsync_api_key: { eternal: {} },
        aws_lambda_permission: { anyApi: { action: 'lambda:InvokeFunction', principal: 'appsync.amazonaws.com', function_name: 'f' } },
        aws_sns_topic: { plain: { name: 'alarms' } },
        aws_sqs_queue: { plainQueue: { name: 'dlq' } },
        aws_elasticache_replication_group: { clearCache: { at_rest_encryption_enabled: 'false', transit_encryption_enabled: false } },
        aws_elasticache_serverless_cache: { awsKeyCache: { subnet_ids: ['${aws_subnet.public.id}'] } },
        aws_elasticache_cluster: { standalone: {} },
        aws_dax_cluster: { clearDax: { server_side_encryption: { enabled: false }, cluster_endpoint_encryption_type: 'NONE' } },
        aws_security_group: { openSg: { ingress: [{ from_port: 6379, to_port: 6379, protocol: 'tcp', cidr_blocks: ['0.0.0.0/0'] }] } },
        aws_vpc_security_group_ingress_rule: { openV6: { cidr_ipv6: '::/0', from_port: 6379, to_port: 6379 } },
        aws_subnet: { public: { map_public_ip_on_launch: false }, routed: {} },
        aws_route_table: { igw: { route: [{ cidr_block: '0.0.0.0/0', gateway_id: '${aws_internet_gateway.main.id}' }] } },
        aws_route_table_association: { routed: { subnet_id: '${aws_subnet.routed.id}', route_table_id: '${aws_route_table.igw.id}' } },
        aws_elasticache_subnet_group: { routedGroup: { subnet_ids: ['${aws_subnet.routed.id}'] } },
        aws_lambda_event_source_mapping: { noDestination: { event_source_arn: 'arn', function_name: 'f' } },
        aws_cloudwatch_metric_alarm: {
          silent: { alarm_name: 'a' },
          muted: { alarm_name: 'b', actions_enabled: false, alarm_actions: ['${aws_sns_topic.plain.arn}'] },
          elsewhere: { alarm_name: 'c', alarm_actions: ['arn:aws:sns:eu-west-1:1:other'] },
        },
      },
    };
    const findings = auditStack(bad);
    for (const expected of [
      'aws_iam_role_policy.star statement 0: wildcard dynamodb:*',
      'aws_iam_role_policy.everything statement 0: wildcard *',
      'aws_iam_role_policy.xrayPlusMore statement 0: wildcard *',
      'aws_iam_role_policy.streamsOfAnything statement 0: wildcard arn:aws:logs:*:*:*',
      'aws_iam_role_policy.hcl.policy: policy is not JSON',
      'aws_kms_key.open statement 0: wildcard kms:*, *',
      'aws_kms_key.open: key rotation disabled',
      'aws_iam_role.trustsAll statement 0: anyone may assume the role',
      'aws_iam_role_policy_attachment.admin: managed policies',
      'aws_dynamodb_table.plain: not encrypted',
      'aws_dynamodb_table.plain: no point-in-time recovery',
      'aws_cloudwatch_log_group.forever: not encrypted',
      'aws_cloudwatch_log_group.forever: keeps logs forever',
      'aws_appsync_api_key.eternal: API key without an explicit expiry',
      'aws_lambda_permission.anyApi: service principal without source_arn',
      'aws_sns_topic.plain: not encrypted with a KMS key',
      'aws_sqs_queue.plainQueue: queue not encrypted',
      'aws_elasticache_replication_group.clearCache: cache not encrypted at rest',
      'aws_elasticache_replication_group.clearCache: cache not encrypted in transit',
      'aws_elasticache_serverless_cache.awsKeyCache: cache not encrypted with a customer-managed key',
      'aws_elasticache_cluster.standalone: standalone cache cluster',
      'aws_dax_cluster.clearDax: cache not encrypted at rest',
      'aws_dax_cluster.clearDax: cache not encrypted in transit',
      'aws_security_group.openSg: ingress from 0.0.0.0/0',
      'aws_vpc_security_group_ingress_rule.openV6: ingress from 0.0.0.0/0 or ::/0',
      'aws_elasticache_subnet_group.routedGroup: cache in public subnet aws_subnet.routed',
      'aws_lambda_event_source_mapping.noDestination: event source mapping without an on-failure destination',
      'aws_cloudwatch_metric_alarm.silent: alarm has no action',
      'aws_cloudwatch_metric_alarm.muted: alarm actions disabled',
      'aws_cloudwatch_metric_alarm.elsewhere: alarm action arn:aws:sns:eu-west-1:1:other is not an SNS topic of this stack',
    ]) {
      expect(
        findings.some((finding) => finding.startsWith(expected)),
        `${expected}\nin\n${findings.join('\n')}`,
      ).toBe(true);
    }
  });

  it('fails a custom domain whose certificate is not in us-east-1 or not DNS-validated, and an unencrypted API cache, in any stack', () => {
    const stack = {
      terraform: {},
      provider: { aws: [{ region: 'eu-west-1' }, { alias: 'us_east_1', region: 'us-east-1' }] },
      resource: {
        aws_acm_certificate: {
          regional: { domain_name: 'api.example.com', validation_method: 'DNS' },
          byMail: { domain_name: 'api.example.org', validation_method: 'EMAIL', provider: 'aws.us_east_1' },
        },
        aws_acm_certificate_validation: {
          regional: { certificate_arn: '${aws_acm_certificate.regional.arn}', validation_record_fqdns: ['${aws_route53_record.r.fqdn}'] },
          byMail: { certificate_arn: '${aws_acm_certificate.byMail.arn}', provider: 'aws.us_east_1' },
        },
        aws_appsync_domain_name: {
          regional: { domain_name: 'api.example.com', certificate_arn: '${aws_acm_certificate_validation.regional.certificate_arn}' },
          byMail: { domain_name: 'api.example.org', certificate_arn: '${aws_acm_certificate_validation.byMail.certificate_arn}' },
        },
        aws_appsync_api_cache: { plain: { api_caching_behavior: 'PER_RESOLVER_CACHING', transit_encryption_enabled: true } },
      },
    } as unknown as TerraformJson;
    expect(auditStack(stack, { production: false })).toEqual([
      'aws_appsync_domain_name.regional: certificate aws_acm_certificate.regional is in eu-west-1, not us-east-1',
      'aws_appsync_domain_name.byMail: certificate aws_acm_certificate.byMail is validated by EMAIL, not DNS',
      'aws_appsync_domain_name.byMail: certificate validation waits for no DNS record',
      'aws_appsync_api_cache.plain: API cache not encrypted at rest',
    ]);
  });

  describe('production rules (what a scanner flags on prod)', () => {
    type Mutable = { terraform: Record<string, unknown>; resource: Record<string, Record<string, Record<string, unknown>>> };
    /** A deep copy of the synthesized prod stack, changed by `change`. */
    const prodWith = (change: (stack: Mutable) => void): TerraformJson => {
      const copy = structuredClone(requireStack(stacks, 'prod').parsed) as unknown as Mutable;
      change(copy);
      return copy as unknown as TerraformJson;
    };
    const firstId = (stack: Mutable, type: string): string => {
      const id = Object.keys(stack.resource[type] ?? {})[0];
      if (id === undefined) throw new Error(`prod has no ${type}`);
      return id;
    };
    const expectFinding = (stack: TerraformJson, expected: RegExp): void => {
      const findings = auditStack(stack);
      expect(findings.length, findings.join('\n')).toBeGreaterThan(0);
      expect(
        findings.every((finding) => expected.test(finding)),
        `every finding should match ${expected}:\n${findings.join('\n')}`,
      ).toBe(true);
    };

    it('knows each stack by its provider tag and applies the production rules to prod only', () => {
      expect(environmentNames.map((name) => stackEnvironment(requireStack(stacks, name).parsed))).toEqual(environmentNames);
      // Dev legitimately lacks them (local state, no WAF, no VPC)…
      const dev = requireStack(stacks, 'dev').parsed;
      expect(auditStack(dev)).toEqual([]);
      // …which the production rules would catch if it were prod.
      const asProd = auditStack(dev, { production: true });
      for (const expected of [
        'terraform.backend: local state',
        'no WAF web ACL associated',
        'enhanced metrics off',
        'no reserved concurrency',
        'no code signing config',
      ])
        expect(
          asProd.some((finding) => finding.includes(expected)),
          `${expected}\n${asProd.join('\n')}`,
        ).toBe(true);
    });

    it('fails prod without the WAF association', () => {
      expectFinding(
        prodWith((stack) => delete stack.resource.aws_wafv2_web_acl_association),
        /^aws_appsync_graphql_api\.[^:]+: no WAF web ACL associated$/,
      );
    });

    it('fails prod with a local backend, or S3 state unencrypted or unlocked', () => {
      expectFinding(
        prodWith((stack) => {
          stack.terraform.backend = { local: { path: 'terraform.tfstate' } };
        }),
        /^terraform\.backend: local state in production/,
      );
      expectFinding(
        prodWith((stack) => delete stack.terraform.backend),
        /^terraform\.backend: local \(default\) state in production/,
      );
      expectFinding(
        prodWith((stack) => {
          const s3 = (stack.terraform.backend as { s3: Record<string, unknown> }).s3;
          delete s3.use_lockfile;
          s3.encrypt = false;
        }),
        /^terraform\.backend\.s3: (state not encrypted|no state locking)$/,
      );
    });

    it('fails prod with enhanced metrics off or partial', () => {
      expectFinding(
        prodWith(
          (stack) => delete stack.resource.aws_appsync_graphql_api?.[firstId(stack, 'aws_appsync_graphql_api')]?.enhanced_metrics_config,
        ),
        /^aws_appsync_graphql_api\.[^:]+: enhanced metrics off$/,
      );
      expectFinding(
        prodWith((stack) => {
          const api = stack.resource.aws_appsync_graphql_api?.[firstId(stack, 'aws_appsync_graphql_api')];
          (api?.enhanced_metrics_config as Record<string, unknown>).operation_level_metrics_config = 'DISABLED';
        }),
        /enhanced metrics operation_level_metrics_config is DISABLED, not ENABLED$/,
      );
    });

    it('fails prod with an alarm without an action', () => {
      expectFinding(
        prodWith(
          (stack) => delete stack.resource.aws_cloudwatch_metric_alarm?.[firstId(stack, 'aws_cloudwatch_metric_alarm')]?.alarm_actions,
        ),
        /^aws_cloudwatch_metric_alarm\.[^:]+: alarm has no action$/,
      );
    });

    it('fails prod with a function without reserved concurrency (or reserved at 0, a kill switch)', () => {
      expectFinding(
        prodWith(
          (stack) => delete stack.resource.aws_lambda_function?.[firstId(stack, 'aws_lambda_function')]?.reserved_concurrent_executions,
        ),
        /^aws_lambda_function\.[^:]+: no reserved concurrency$/,
      );
      expectFinding(
        prodWith((stack) => {
          const fn = stack.resource.aws_lambda_function?.[firstId(stack, 'aws_lambda_function')];
          if (fn) fn.reserved_concurrent_executions = 0;
        }),
        /: no reserved concurrency$/,
      );
    });

    it('fails prod with a function without code signing, or a signing config of another stack', () => {
      expectFinding(
        prodWith((stack) => delete stack.resource.aws_lambda_function?.[firstId(stack, 'aws_lambda_function')]?.code_signing_config_arn),
        /^aws_lambda_function\.[^:]+: no code signing config$/,
      );
      expectFinding(
        prodWith((stack) => {
          const fn = stack.resource.aws_lambda_function?.[firstId(stack, 'aws_lambda_function')];
          if (fn) fn.code_signing_config_arn = 'arn:aws:lambda:eu-west-1:1:code-signing-config:csc-elsewhere';
        }),
        /: no code signing config$/,
      );
    });

    it('fails prod with a VPC without flow logs', () => {
      expectFinding(
        prodWith((stack) => delete stack.resource.aws_flow_log),
        /^aws_vpc\.[^:]+: no flow log$/,
      );
    });

    it('fails any stack whose WAF rules publish no metrics', () => {
      expectFinding(
        prodWith((stack) => {
          const acl = stack.resource.aws_wafv2_web_acl?.[firstId(stack, 'aws_wafv2_web_acl')];
          const rule = (acl?.rule as { visibility_config: Record<string, unknown> }[])[0];
          if (rule) rule.visibility_config.cloudwatch_metrics_enabled = false;
        }),
        /^aws_wafv2_web_acl\.[^:]+: WAF metrics off for storefront-prod-rate-per-ip$/,
      );
    });
  });
});
