import { allowedWildcards, type AllowedWildcard, type PolicyKind, type WildcardResource } from '../../../stacks/policy/allowed-wildcards.js';
import type { PolicyDocument, PolicyStatement } from '../../../stacks/lib/policy-document.js';
import type { TerraformJson } from './synth.js';

/**
 * Audits a synthesized stack the way a platform team's policy check would:
 * every IAM and key policy statement, every table, log group and API key,
 * every SNS topic and alarm.
 * Returns findings rather than asserting, so the test can also prove that the
 * audit catches what it should.
 */

const asList = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

const LOG_GROUP_STREAMS = /^\$\{aws_cloudwatch_log_group\.[A-Za-z0-9_-]+\.arn\}:\*$/;
const TOPIC_ARN = /^\$\{aws_sns_topic\.([A-Za-z0-9_-]+)\.arn\}$/;

/** An alarm nobody hears is no alarm: it must notify a topic this stack creates. */
function alarmFindings(where: string, body: Record<string, unknown>, stack: TerraformJson): string[] {
  if (body.actions_enabled === false) return [`${where}: alarm actions disabled`];
  const actions = Array.isArray(body.alarm_actions) ? (body.alarm_actions as unknown[]) : [];
  if (actions.length === 0) return [`${where}: alarm has no action`];
  const topics = stack.resource.aws_sns_topic ?? {};
  return actions
    .filter((action) => !(typeof action === 'string' && (TOPIC_ARN.exec(action)?.[1] ?? '') in topics))
    .map((action) => `${where}: alarm action ${String(action)} is not an SNS topic of this stack`);
}

function resourceMatches(resource: string, kind: WildcardResource): boolean {
  return kind === 'any' ? resource === '*' : LOG_GROUP_STREAMS.test(resource);
}

function principalMatches(statement: PolicyStatement, principal: AllowedWildcard['principal']): boolean {
  if (principal === undefined) return statement.Principal === undefined;
  if (principal === 'service') return statement.Principal?.Service !== undefined && statement.Principal.AWS === undefined;
  const aws = asList(statement.Principal?.AWS);
  return statement.Principal?.Service === undefined && aws.length === 1 && /^arn:[^:]+:iam::[^:]+:root$/.test(aws[0] ?? '');
}

function allowedBy(statement: PolicyStatement, kind: PolicyKind): AllowedWildcard | undefined {
  const actions = asList(statement.Action);
  return allowedWildcards.find(
    (entry) =>
      entry.policyKind === kind &&
      actions.every((action) => entry.actions.includes(action)) &&
      asList(statement.Resource).every((resource) => !resource.includes('*') || resourceMatches(resource, entry.resource)) &&
      (kind === 'identity' || principalMatches(statement, entry.principal)),
  );
}

function auditStatements(where: string, document: PolicyDocument, kind: PolicyKind | 'trust'): string[] {
  const findings: string[] = [];
  for (const [index, statement] of document.Statement.entries()) {
    const at = `${where} statement ${statement.Sid ?? index}`;
    if (statement.Effect !== 'Allow') continue;
    if (kind === 'trust') {
      if (asList(statement.Action).some((action) => action !== 'sts:AssumeRole')) findings.push(`${at}: trust policy grants more than sts:AssumeRole`);
      if (asList(statement.Principal?.AWS).includes('*') || asList(statement.Principal?.Service).includes('*')) findings.push(`${at}: anyone may assume the role`);
      continue;
    }
    const wildcardActions = asList(statement.Action).filter((action) => action.includes('*'));
    const wildcardResources = asList(statement.Resource).filter((resource) => resource.includes('*'));
    if (statement.Resource === undefined) findings.push(`${at}: no Resource`);
    if ((wildcardActions.length > 0 || wildcardResources.length > 0) && !allowedBy(statement, kind)) {
      findings.push(`${at}: wildcard ${[...wildcardActions, ...wildcardResources].join(', ')} is not on stacks/policy/allowed-wildcards.ts`);
    }
  }
  return findings;
}

function parsePolicy(where: string, text: unknown, findings: string[]): PolicyDocument | undefined {
  if (typeof text !== 'string') {
    findings.push(`${where}: policy is not a JSON string the audit can read`);
    return undefined;
  }
  try {
    return JSON.parse(text) as PolicyDocument;
  } catch {
    findings.push(`${where}: policy is not JSON`);
    return undefined;
  }
}

export function auditStack(stack: TerraformJson): string[] {
  const findings: string[] = [];
  for (const [type, byId] of Object.entries(stack.resource)) {
    for (const [id, body] of Object.entries(byId)) {
      const where = `${type}.${id}`;
      for (const attribute of ['policy', 'assume_role_policy', 'inline_policy']) {
        if (!(attribute in body)) continue;
        const document = parsePolicy(`${where}.${attribute}`, body[attribute], findings);
        if (!document) continue;
        const kind = attribute === 'assume_role_policy' ? 'trust' : type === 'aws_kms_key' ? 'key' : 'identity';
        findings.push(...auditStatements(where, document, kind));
      }
      switch (type) {
        case 'aws_iam_role_policy_attachment':
        case 'aws_iam_policy_attachment':
        case 'aws_iam_role_policies_exclusive':
          findings.push(`${where}: managed policies are not reviewed here; use the role's inline policy`);
          break;
        case 'aws_iam_role':
          if (body.managed_policy_arns !== undefined) findings.push(`${where}: managed policy ARNs are not reviewed here`);
          break;
        case 'aws_dynamodb_table': {
          const sse = body.server_side_encryption as { enabled?: boolean; kms_key_arn?: string } | undefined;
          if (sse?.enabled !== true || !sse.kms_key_arn) findings.push(`${where}: not encrypted with a customer-managed key`);
          if ((body.point_in_time_recovery as { enabled?: boolean } | undefined)?.enabled !== true) findings.push(`${where}: no point-in-time recovery`);
          break;
        }
        case 'aws_cloudwatch_log_group':
          if (!body.kms_key_id) findings.push(`${where}: not encrypted with a KMS key`);
          if (typeof body.retention_in_days !== 'number' || body.retention_in_days <= 0) findings.push(`${where}: keeps logs forever (no retention)`);
          break;
        case 'aws_kms_key':
          if (body.enable_key_rotation !== true) findings.push(`${where}: key rotation disabled`);
          break;
        case 'aws_sns_topic':
          if (!body.kms_master_key_id) findings.push(`${where}: not encrypted with a KMS key`);
          break;
        case 'aws_cloudwatch_metric_alarm':
          findings.push(...alarmFindings(where, body, stack));
          break;
        case 'aws_lambda_permission':
          // Without a source ARN, any account's resource of that service could invoke the function (confused deputy).
          if (String(body.principal ?? '').endsWith('.amazonaws.com') && !body.source_arn) findings.push(`${where}: service principal without source_arn`);
          break;
        case 'aws_appsync_api_key':
          if (typeof body.expires !== 'string' || Number.isNaN(Date.parse(body.expires))) findings.push(`${where}: API key without an explicit expiry`);
          break;
      }
    }
  }
  return findings;
}
