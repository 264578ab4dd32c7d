import {
  allowedWildcards,
  type AllowedWildcard,
  type PolicyKind,
  type WildcardResource,
} from '../../../stacks/policy/allowed-wildcards.js';
import type { PolicyDocument, PolicyStatement } from '../../../stacks/lib/policy-document.js';
import type { TerraformJson } from './synth.js';

/**
 * Audits a synthesized stack the way a platform team's policy check would:
 * every IAM and key policy statement, every table, log group and API key,
 * every SNS topic and alarm; and for a production stack what an IaC scanner
 * (checkov's rules for these resources) would flag there: the API without a
 * WAF web ACL or enhanced metrics, local state, a function without reserved
 * concurrency or code signing, a VPC without flow logs; and on any stack, a
 * custom domain whose certificate is not in us-east-1 or not DNS-validated,
 * and an OIDC auth mode that would take tokens from a plain-HTTP issuer, from
 * any app of its provider, or without freshness checks (in prod also from
 * localhost or a placeholder issuer).
 * Returns findings rather than asserting, so the test can also prove that the
 * audit catches what it should.
 */

export interface AuditOptions {
  /**
   * Apply the production rules. Defaults to what the stack says of itself:
   * its AWS provider's default tag `environment` is `prod`.
   */
  readonly production?: boolean;
}

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
      if (asList(statement.Action).some((action) => action !== 'sts:AssumeRole'))
        findings.push(`${at}: trust policy grants more than sts:AssumeRole`);
      if (asList(statement.Principal?.AWS).includes('*') || asList(statement.Principal?.Service).includes('*'))
        findings.push(`${at}: anyone may assume the role`);
      continue;
    }
    const wildcardActions = asList(statement.Action).filter((action) => action.includes('*'));
    const wildcardResources = asList(statement.Resource).filter((resource) => resource.includes('*'));
    if (statement.Resource === undefined) findings.push(`${at}: no Resource`);
    if ((wildcardActions.length > 0 || wildcardResources.length > 0) && !allowedBy(statement, kind)) {
      findings.push(
        `${at}: wildcard ${[...wildcardActions, ...wildcardResources].join(', ')} is not on stacks/policy/allowed-wildcards.ts`,
      );
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

const OPEN_CIDRS = new Set(['0.0.0.0/0', '::/0']);
const SUBNET_REF = /^\$\{aws_subnet\.([A-Za-z0-9_-]+)\.id\}$/;
const ROUTE_TABLE_REF = /^\$\{aws_route_table\.([A-Za-z0-9_-]+)\.id\}$/;

/** Ingress open to the internet, in any of Terraform's three ways of writing a rule. */
function openIngressFindings(where: string, type: string, body: Record<string, unknown>): string[] {
  const open = (values: unknown): boolean =>
    (Array.isArray(values) ? values : [values]).some((value) => typeof value === 'string' && OPEN_CIDRS.has(value));
  switch (type) {
    case 'aws_security_group': {
      const ingress = Array.isArray(body.ingress) ? (body.ingress as Record<string, unknown>[]) : [];
      return ingress.some((rule) => open(rule.cidr_blocks) || open(rule.ipv6_cidr_blocks))
        ? [`${where}: ingress from 0.0.0.0/0 or ::/0`]
        : [];
    }
    case 'aws_vpc_security_group_ingress_rule':
      return open(body.cidr_ipv4) || open(body.cidr_ipv6) ? [`${where}: ingress from 0.0.0.0/0 or ::/0`] : [];
    case 'aws_security_group_rule':
      return body.type === 'ingress' && (open(body.cidr_blocks) || open(body.ipv6_cidr_blocks))
        ? [`${where}: ingress from 0.0.0.0/0 or ::/0`]
        : [];
    default:
      return [];
  }
}

/**
 * Subnets from which a resource could be reached from (or reach) the internet:
 * those that hand out public addresses, or whose route table routes to an
 * internet gateway (inline route or `aws_route`).
 */
function publicSubnets(stack: TerraformJson): Set<string> {
  const toIgw = (route: unknown): boolean =>
    typeof (route as { gateway_id?: unknown }).gateway_id === 'string' &&
    String((route as { gateway_id: string }).gateway_id).includes('aws_internet_gateway');
  const publicTables = new Set<string>();
  for (const [id, table] of Object.entries(stack.resource.aws_route_table ?? {})) {
    if (Array.isArray(table.route) && table.route.some(toIgw)) publicTables.add(id);
  }
  for (const route of Object.values(stack.resource.aws_route ?? {})) {
    const table = ROUTE_TABLE_REF.exec(String(route.route_table_id))?.[1];
    if (table && toIgw(route)) publicTables.add(table);
  }
  const subnets = new Set<string>();
  for (const [id, subnet] of Object.entries(stack.resource.aws_subnet ?? {})) if (subnet.map_public_ip_on_launch === true) subnets.add(id);
  for (const association of Object.values(stack.resource.aws_route_table_association ?? {})) {
    const table = ROUTE_TABLE_REF.exec(String(association.route_table_id))?.[1];
    const subnet = SUBNET_REF.exec(String(association.subnet_id))?.[1];
    if (table && subnet && publicTables.has(table)) subnets.add(subnet);
  }
  return subnets;
}

/** The cache types and where their subnets are named. */
const CACHE_SUBNETS: Readonly<Record<string, string>> = {
  aws_elasticache_serverless_cache: 'subnet_ids',
  aws_elasticache_subnet_group: 'subnet_ids',
  aws_dax_subnet_group: 'subnet_ids',
};

/** The `environment` default tag of the stack's AWS provider (stacks/storefront-stack.ts sets it). */
export function stackEnvironment(stack: TerraformJson): string | undefined {
  const providers = (stack as { provider?: { aws?: { default_tags?: { tags?: Record<string, string> }[] }[] } }).provider?.aws ?? [];
  return providers[0]?.default_tags?.[0]?.tags?.environment;
}

const refTo = (type: string, attribute: string) => new RegExp(`^\\$\\{${type}\\.([A-Za-z0-9_-]+)\\.${attribute}\\}$`);
const API_ARN = refTo('aws_appsync_graphql_api', 'arn');
const WEB_ACL_ARN = refTo('aws_wafv2_web_acl', 'arn');
const CODE_SIGNING_ARN = refTo('aws_lambda_code_signing_config', 'arn');
const VPC_ID = refTo('aws_vpc', 'id');

/** Enhanced metrics that cover every resolver and data source (the PER_* behaviours need opt-ins the stack cannot set). */
const FULL_ENHANCED_METRICS = {
  resolver_level_metrics_behavior: 'FULL_REQUEST_RESOLVER_METRICS',
  data_source_level_metrics_behavior: 'FULL_REQUEST_DATA_SOURCE_METRICS',
  operation_level_metrics_config: 'ENABLED',
} as const;

/** Production only: what a scanner flags on prod and a dev stack may legitimately lack. */
export function productionFindings(stack: TerraformJson): string[] {
  const findings: string[] = [];
  const { resource } = stack;

  const backend = stack.terraform.backend ?? {};
  const s3 = backend.s3;
  if (!s3) findings.push(`terraform.backend: ${Object.keys(backend)[0] ?? 'local (default)'} state in production (use the S3 backend)`);
  else {
    if (s3.encrypt !== true) findings.push('terraform.backend.s3: state not encrypted');
    if (s3.use_lockfile !== true && !s3.dynamodb_table) findings.push('terraform.backend.s3: no state locking');
  }

  const webAcls = resource.aws_wafv2_web_acl ?? {};
  const protectedApis = new Set<string>();
  for (const [id, association] of Object.entries(resource.aws_wafv2_web_acl_association ?? {})) {
    const api = API_ARN.exec(String(association.resource_arn))?.[1];
    const acl = WEB_ACL_ARN.exec(String(association.web_acl_arn))?.[1];
    if (!acl || !(acl in webAcls)) findings.push(`aws_wafv2_web_acl_association.${id}: web ACL is not one of this stack's`);
    else if (api) protectedApis.add(api);
  }
  for (const [id, api] of Object.entries(resource.aws_appsync_graphql_api ?? {})) {
    const where = `aws_appsync_graphql_api.${id}`;
    if (!protectedApis.has(id)) findings.push(`${where}: no WAF web ACL associated`);
    const metrics = api.enhanced_metrics_config as Record<string, unknown> | undefined;
    if (!metrics) findings.push(`${where}: enhanced metrics off`);
    else {
      for (const [setting, expected] of Object.entries(FULL_ENHANCED_METRICS))
        if (metrics[setting] !== expected)
          findings.push(`${where}: enhanced metrics ${setting} is ${String(metrics[setting])}, not ${expected}`);
    }
  }

  const signingConfigs = resource.aws_lambda_code_signing_config ?? {};
  for (const [id, fn] of Object.entries(resource.aws_lambda_function ?? {})) {
    const where = `aws_lambda_function.${id}`;
    const reserved = fn.reserved_concurrent_executions;
    // 0 is a kill switch, not a size; -1 is Terraform's "unreserved".
    if (typeof reserved !== 'number' || reserved < 1) findings.push(`${where}: no reserved concurrency`);
    const signing = CODE_SIGNING_ARN.exec(String(fn.code_signing_config_arn ?? ''))?.[1];
    if (!signing || !(signing in signingConfigs)) findings.push(`${where}: no code signing config`);
  }
  for (const [id, config] of Object.entries(signingConfigs)) {
    const publishers = (config.allowed_publishers as { signing_profile_version_arns?: unknown[] } | undefined)
      ?.signing_profile_version_arns;
    if (!Array.isArray(publishers) || publishers.length === 0) findings.push(`aws_lambda_code_signing_config.${id}: no allowed publisher`);
  }

  const loggedVpcs = new Set(
    Object.values(resource.aws_flow_log ?? {}).flatMap((flowLog) => {
      const vpc = VPC_ID.exec(String(flowLog.vpc_id))?.[1];
      return vpc ? [vpc] : [];
    }),
  );
  for (const id of Object.keys(resource.aws_vpc ?? {})) if (!loggedVpcs.has(id)) findings.push(`aws_vpc.${id}: no flow log`);
  return findings;
}

const API_ID = refTo('aws_appsync_graphql_api', 'id');

/** The APIs of this stack whose cache caches per resolver. */
function perResolverCacheApis(stack: TerraformJson): Set<string> {
  return new Set(
    Object.values(stack.resource.aws_appsync_api_cache ?? {}).flatMap((cache) => {
      const api = API_ID.exec(String(cache.api_id))?.[1];
      return api && cache.api_caching_behavior === 'PER_RESOLVER_CACHING' ? [api] : [];
    }),
  );
}

const CERTIFICATE_VALIDATION_ARN = refTo('aws_acm_certificate_validation', 'certificate_arn');
const CERTIFICATE_ARN = refTo('aws_acm_certificate', 'arn');

/** The region of the AWS provider a resource names (`aws.<alias>`), or of the default one. */
function providerRegion(stack: TerraformJson, provider: unknown): string | undefined {
  const providers = (stack as { provider?: { aws?: { alias?: string; region?: string }[] } }).provider?.aws ?? [];
  const alias = typeof provider === 'string' ? /^aws\.(.+)$/.exec(provider)?.[1] : undefined;
  return providers.find((entry) => (alias === undefined ? entry.alias === undefined : entry.alias === alias))?.region;
}

/**
 * A custom domain's certificate: AppSync serves the name through CloudFront,
 * which takes certificates from us-east-1 only, and a certificate validated by
 * DNS renews itself while the record stays (e-mail validation needs a person
 * every year). The domain must take the validation's ARN, so it waits for the
 * certificate to be issued.
 */
function customDomainFindings(stack: TerraformJson): string[] {
  const findings: string[] = [];
  const certificates = stack.resource.aws_acm_certificate ?? {};
  const validations = stack.resource.aws_acm_certificate_validation ?? {};
  for (const [id, domain] of Object.entries(stack.resource.aws_appsync_domain_name ?? {})) {
    const where = `aws_appsync_domain_name.${id}`;
    const arn = String(domain.certificate_arn ?? '');
    const validation = validations[CERTIFICATE_VALIDATION_ARN.exec(arn)?.[1] ?? ''];
    if (!validation) {
      findings.push(
        CERTIFICATE_ARN.test(arn)
          ? `${where}: certificate taken before it is validated (use the aws_acm_certificate_validation's certificate_arn)`
          : `${where}: certificate ${arn} is not one this stack issues and validates`,
      );
      continue;
    }
    const certificateId = CERTIFICATE_ARN.exec(String(validation.certificate_arn ?? ''))?.[1] ?? '';
    const certificate = certificates[certificateId];
    if (!certificate) {
      findings.push(`${where}: its validation names no certificate of this stack`);
      continue;
    }
    const region = providerRegion(stack, certificate.provider);
    if (region !== 'us-east-1')
      findings.push(`${where}: certificate aws_acm_certificate.${certificateId} is in ${region ?? 'an unknown region'}, not us-east-1`);
    if (certificate.validation_method !== 'DNS')
      findings.push(
        `${where}: certificate aws_acm_certificate.${certificateId} is validated by ${String(certificate.validation_method ?? 'nothing')}, not DNS`,
      );
    if (!Array.isArray(validation.validation_record_fqdns) || validation.validation_record_fqdns.length === 0)
      findings.push(`${where}: certificate validation waits for no DNS record`);
  }
  return findings;
}

/** Every OIDC configuration of an API: the default mode's and each additional provider's. */
function openIdConnectConfigs(api: Record<string, unknown>): { where: string; config: Record<string, unknown> }[] {
  const one = (value: unknown): Record<string, unknown> | undefined =>
    (Array.isArray(value) ? value[0] : value) as Record<string, unknown> | undefined;
  const configs: { where: string; config: Record<string, unknown> }[] = [];
  if (api.authentication_type === 'OPENID_CONNECT')
    configs.push({ where: 'default auth mode', config: one(api.openid_connect_config) ?? {} });
  const additional = Array.isArray(api.additional_authentication_provider)
    ? (api.additional_authentication_provider as Record<string, unknown>[])
    : [];
  for (const [index, provider] of additional.entries()) {
    if (provider.authentication_type === 'OPENID_CONNECT')
      configs.push({ where: `additional auth provider ${index}`, config: one(provider.openid_connect_config) ?? {} });
  }
  return configs;
}

/** Hosts no production identity provider lives on: loopback, private ranges, and the names reserved for examples and tests (RFC 2606, 6761). */
const NOT_A_PRODUCTION_HOST =
  /^(localhost|127(\.\d+){3}|0\.0\.0\.0|10(\.\d+){3}|192\.168(\.\d+){2}|172\.(1[6-9]|2\d|3[01])(\.\d+){2}|\[::1?\])$|(^|\.)(example\.(com|net|org)|[^.]+\.(example|test|invalid|localhost|local))$/;
/** An app id no real configuration names: a client id regex that accepts it accepts any app of the provider. */
const FOREIGN_CLIENT_ID = 'another-app-of-the-same-issuer';

/**
 * AppSync trusts whatever the issuer signs for an app the client id matches:
 * the issuer must be reached over TLS (its discovery document and keys are
 * what every signature is checked against), the client id must name this
 * API's app (not a pattern that admits every app registered at the same
 * provider), and both freshness checks must be on (0 or unset turns AppSync's
 * check off). In production, the issuer must be a real provider: not
 * localhost, a private address or an example/test domain left in place.
 */
function openIdConnectFindings(stack: TerraformJson, production: boolean): string[] {
  const findings: string[] = [];
  for (const [id, api] of Object.entries(stack.resource.aws_appsync_graphql_api ?? {})) {
    for (const { where, config } of openIdConnectConfigs(api)) {
      const at = `aws_appsync_graphql_api.${id}: OIDC ${where}`;
      const issuer = typeof config.issuer === 'string' ? config.issuer : '';
      let url: URL | undefined;
      try {
        url = new URL(issuer);
      } catch {
        findings.push(`${at}: issuer ${issuer || '(none)'} is not a URL`);
      }
      if (url && url.protocol !== 'https:') findings.push(`${at}: issuer ${issuer} is not https`);
      if (url && production && NOT_A_PRODUCTION_HOST.test(url.hostname))
        findings.push(`${at}: issuer ${issuer} is localhost, private or a placeholder in production`);
      const clientId = typeof config.client_id === 'string' ? config.client_id : '';
      if (clientId === '') findings.push(`${at}: no client_id (tokens for any app of the issuer would be accepted)`);
      else {
        let pattern: RegExp | undefined;
        try {
          pattern = new RegExp(`^(?:${clientId})$`);
        } catch {
          findings.push(`${at}: client_id ${clientId} is not a regular expression`);
        }
        if (pattern?.test(FOREIGN_CLIENT_ID) || pattern?.test(''))
          findings.push(`${at}: client_id ${clientId} accepts tokens issued to other apps of the issuer`);
      }
      for (const ttl of ['iat_ttl', 'auth_ttl']) {
        if (typeof config[ttl] !== 'number' || (config[ttl] as number) <= 0)
          findings.push(`${at}: ${ttl} is ${String(config[ttl] ?? 'unset')} (token freshness unchecked)`);
      }
    }
  }
  return findings;
}

export function auditStack(stack: TerraformJson, options: AuditOptions = {}): string[] {
  const findings: string[] = [];
  const production = options.production ?? stackEnvironment(stack) === 'prod';
  if (production) findings.push(...productionFindings(stack));
  findings.push(...customDomainFindings(stack), ...openIdConnectFindings(stack, production));
  const exposed = publicSubnets(stack);
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
      findings.push(...openIngressFindings(where, type, body));
      const subnetAttribute = CACHE_SUBNETS[type];
      if (subnetAttribute) {
        const subnets = Array.isArray(body[subnetAttribute]) ? (body[subnetAttribute] as unknown[]) : [];
        for (const subnet of subnets) {
          const id = SUBNET_REF.exec(String(subnet))?.[1];
          if (id === undefined)
            findings.push(`${where}: subnet ${String(subnet)} is not one of this stack's (cannot tell whether it is private)`);
          else if (exposed.has(id)) findings.push(`${where}: cache in public subnet aws_subnet.${id}`);
        }
      }
      switch (type) {
        case 'aws_sqs_queue':
          if (!body.kms_master_key_id && body.sqs_managed_sse_enabled !== true) findings.push(`${where}: queue not encrypted`);
          break;
        case 'aws_elasticache_serverless_cache':
          // Serverless caches always encrypt in transit and at rest; the key must be ours.
          if (!body.kms_key_id) findings.push(`${where}: cache not encrypted with a customer-managed key`);
          break;
        case 'aws_elasticache_replication_group':
          if (String(body.at_rest_encryption_enabled) !== 'true') findings.push(`${where}: cache not encrypted at rest`);
          if (body.transit_encryption_enabled !== true || body.transit_encryption_mode === 'preferred')
            findings.push(`${where}: cache not encrypted in transit`);
          break;
        case 'aws_elasticache_cluster':
          // A standalone Redis/Valkey cluster cannot encrypt at rest: only replication groups or serverless may hold data.
          findings.push(`${where}: standalone cache cluster (use a replication group or serverless cache, which encrypt)`);
          break;
        case 'aws_dax_cluster':
          if ((body.server_side_encryption as { enabled?: boolean } | undefined)?.enabled !== true)
            findings.push(`${where}: cache not encrypted at rest`);
          if (body.cluster_endpoint_encryption_type !== 'TLS') findings.push(`${where}: cache not encrypted in transit`);
          break;
        case 'aws_lambda_event_source_mapping': {
          // Lambda without a DLQ/destination where async: a failing batch would be dropped silently after its retries.
          const onFailure = (body.destination_config as { on_failure?: { destination_arn?: string } } | undefined)?.on_failure;
          if (!onFailure?.destination_arn) findings.push(`${where}: event source mapping without an on-failure destination`);
          break;
        }
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
          if ((body.point_in_time_recovery as { enabled?: boolean } | undefined)?.enabled !== true)
            findings.push(`${where}: no point-in-time recovery`);
          break;
        }
        case 'aws_cloudwatch_log_group':
          if (!body.kms_key_id) findings.push(`${where}: not encrypted with a KMS key`);
          if (typeof body.retention_in_days !== 'number' || body.retention_in_days <= 0)
            findings.push(`${where}: keeps logs forever (no retention)`);
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
          if (String(body.principal ?? '').endsWith('.amazonaws.com') && !body.source_arn)
            findings.push(`${where}: service principal without source_arn`);
          break;
        case 'aws_wafv2_web_acl': {
          // A rule without metrics blocks in silence: the blocked-requests alarm cannot see it.
          const rules = Array.isArray(body.rule) ? (body.rule as Record<string, unknown>[]) : [];
          for (const visibility of [body.visibility_config, ...rules.map((rule) => rule.visibility_config)]) {
            if ((visibility as { cloudwatch_metrics_enabled?: boolean } | undefined)?.cloudwatch_metrics_enabled !== true) {
              findings.push(
                `${where}: WAF metrics off for ${(visibility as { metric_name?: string } | undefined)?.metric_name ?? 'a rule'}`,
              );
            }
          }
          break;
        }
        case 'aws_appsync_api_cache':
          // Cached responses are customer data like the tables they come from.
          if (body.at_rest_encryption_enabled !== true) findings.push(`${where}: API cache not encrypted at rest`);
          if (body.transit_encryption_enabled !== true) findings.push(`${where}: API cache not encrypted in transit`);
          break;
        case 'aws_appsync_resolver':
          // A caching_config only takes effect under a per-resolver cache: anything else is a cache someone believes in.
          if (body.caching_config !== undefined && !perResolverCacheApis(stack).has(API_ID.exec(String(body.api_id))?.[1] ?? ''))
            findings.push(`${where}: caching_config on an API without a PER_RESOLVER_CACHING cache`);
          break;
        case 'aws_appsync_api_key':
          if (typeof body.expires !== 'string' || Number.isNaN(Date.parse(body.expires)))
            findings.push(`${where}: API key without an explicit expiry`);
          break;
      }
    }
  }
  return findings;
}
