/**
 * The only wildcards the stacks' IAM and KMS key policies may contain. The
 * policy test (test/stacks/policy.test.ts) walks every policy of every
 * environment and fails on a wildcard action or resource that no entry here
 * covers, so adding one is a reviewed change to this file, with its reason.
 * The stacks import the action lists from here, so the code and the
 * allow-list cannot drift apart.
 */

export type PolicyKind = 'identity' | 'key';

/** What a wildcard resource may look like for an entry. */
export type WildcardResource =
  /** Exactly `*`. */
  | 'any'
  /** `<log group ARN>:*`: the streams of one log group, whose names the service picks at run time. */
  | 'streams-of-one-log-group';

export interface AllowedWildcard {
  readonly policyKind: PolicyKind;
  /** A statement with a wildcard must grant a subset of these. */
  readonly actions: readonly string[];
  readonly resource: WildcardResource;
  /** For key policies: who the statement may name. */
  readonly principal?: 'account-root' | 'service';
  readonly why: string;
}

export const xrayWriteActions = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;

export const logStreamWriteActions = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

/** What CloudWatch Logs needs on a key to encrypt a log group with it. */
export const cloudwatchLogsKeyActions = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:DescribeKey',
] as const;

/**
 * What CloudWatch needs on a key to publish alarm notifications to a topic it
 * encrypts (SNS encrypts on the publisher's behalf). The AWS-managed SNS key
 * cannot be used: its policy cannot be extended to CloudWatch.
 */
export const alarmTopicKeyActions = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

/**
 * What Lambda needs from a function's role to attach it to a VPC (the actions of
 * AWS's AWSLambdaVPCAccessExecutionRole, without its logs grant).
 */
export const lambdaVpcAccessActions = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

export const allowedWildcards: readonly AllowedWildcard[] = [
  {
    policyKind: 'identity',
    actions: xrayWriteActions,
    resource: 'any',
    why: 'X-Ray trace upload has no resource-level permissions: IAM accepts only Resource "*" for these actions.',
  },
  {
    policyKind: 'identity',
    actions: logStreamWriteActions,
    resource: 'streams-of-one-log-group',
    why: 'Lambda and AppSync name log streams at run time; the grant stays inside the one log group the stack created.',
  },
  {
    policyKind: 'identity',
    actions: lambdaVpcAccessActions,
    resource: 'any',
    why: 'Lambda creates and deletes the network interfaces of a function in a VPC; EC2 supports no resource-level permission for the Describe actions and Lambda names interfaces at run time, so AWS\'s own AWSLambdaVPCAccessExecutionRole grants these on Resource "*". Only cache-using functions get it.',
  },
  {
    policyKind: 'key',
    actions: ['kms:*'],
    resource: 'any',
    principal: 'account-root',
    why: 'AWS default key policy: delegates key use and administration to IAM in this account, so the key cannot become unmanageable. In a key policy, Resource "*" means this key.',
  },
  {
    policyKind: 'key',
    actions: cloudwatchLogsKeyActions,
    resource: 'any',
    principal: 'service',
    why: 'CloudWatch Logs encrypting the stack\'s log groups, limited by an encryption-context condition to their exact ARNs. In a key policy, Resource "*" means this key.',
  },
  {
    policyKind: 'key',
    actions: alarmTopicKeyActions,
    resource: 'any',
    principal: 'service',
    why: 'CloudWatch alarms publishing to the alarm topic this key encrypts (the key serves no other resource; the topic policy admits only this account\'s alarms). In a key policy, Resource "*" means this key.',
  },
];
