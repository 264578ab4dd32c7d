import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentNames } from '../../stacks/config.js';
import { allowedWildcards } from '../../stacks/policy/allowed-wildcards.js';
import { auditStack } from './support/policy-audit.js';
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
});
