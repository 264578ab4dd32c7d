import { Wafv2WebAcl, type Wafv2WebAclRule } from '@cdktf/provider-aws/lib/wafv2-web-acl/index.js';
import { Wafv2WebAclAssociation } from '@cdktf/provider-aws/lib/wafv2-web-acl-association/index.js';
import { Construct } from 'constructs';
import type { RateLimit, WafConfig } from '../config.js';

export interface WafProps {
  readonly prefix: string;
  readonly config: WafConfig;
  /** The AppSync API the web ACL protects (a REGIONAL resource). */
  readonly apiArn: string;
  /** declarations/api.ts `limits.maxRequestBytes`: the body size rule enforces the same limit. */
  readonly maxRequestBytes: number;
}

/**
 * How much of a body WAF inspects for an AppSync API: 8 KB, fixed (only
 * CloudFront, API Gateway, Cognito, App Runner and Verified Access may raise it).
 */
export const WAF_BODY_INSPECTION_BYTES = 8 * 1024;

/** WAF's quota on the characters of one regex pattern (the API field allows 512; the service quota is 200). */
export const WAF_REGEX_MAX_CHARS = 200;

/** The API key header AppSync reads; the per-key rate rule aggregates on its value. */
export const API_KEY_HEADER = 'x-api-key';

/** The managed rule groups, by WAF name, and the rules of each set to count instead of block (see `managedRules`). */
export const MANAGED_RULE_GROUPS = ['AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesCommonRuleSet'] as const;

/**
 * A WAFv2 web ACL (REGIONAL) on the AppSync API, allowing by default, with
 * CloudWatch metrics and sampled requests on every rule:
 * 1. a rate limit per client IP;
 * 2. a rate limit per API key (the `x-api-key` header's value): the default
 *    auth mode is a key every frontend ships, so this caps what anyone
 *    holding it can spend;
 * 3. the body size rule (`bodySizeRule`);
 * 4. AWS's known-bad-inputs and common rule sets.
 * The metric names are `<prefix>-<rule>`; the ACL's own is `<prefix>-waf`.
 */
export class Waf extends Construct {
  readonly webAcl: Wafv2WebAcl;
  /** The web ACL's name: WAF's `WebACL` metric dimension. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: WafProps) {
    super(scope, id);
    const { prefix, config } = props;
    this.name = `${prefix}-api`;
    const rules: Wafv2WebAclRule[] = [
      rateRule(prefix, 'rate-per-ip', 0, config.perIp, { aggregate_key_type: 'IP' }),
      rateRule(prefix, 'rate-per-api-key', 1, config.perApiKey, {
        aggregate_key_type: 'CUSTOM_KEYS',
        custom_key: [{ header: { name: API_KEY_HEADER, text_transformation: [{ priority: 0, type: 'NONE' }] } }],
      }),
      bodySizeRule(prefix, 2, props.maxRequestBytes),
      ...managedRules(prefix, 3, props.maxRequestBytes),
    ];
    this.webAcl = new Wafv2WebAcl(this, 'web-acl', {
      name: this.name,
      description: `AppSync API ${prefix}: rate limits, body size, AWS managed rules`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      rule: rules,
      visibilityConfig: visibility(`${prefix}-waf`),
    });
    new Wafv2WebAclAssociation(this, 'api', { resourceArn: props.apiArn, webAclArn: this.webAcl.arn });
  }
}

function visibility(metricName: string): Wafv2WebAclRule['visibilityConfig'] {
  return { cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

function rateRule(prefix: string, name: string, priority: number, limit: RateLimit, key: Record<string, unknown>): Wafv2WebAclRule {
  return {
    name,
    priority,
    action: { block: {} },
    statement: { rate_based_statement: { limit: limit.limit, evaluation_window_sec: limit.windowSeconds, ...key } },
    visibilityConfig: visibility(`${prefix}-${name}`),
  };
}

/**
 * The declared request limit, at the edge. WAF sees only the first 8 KB of an
 * AppSync body, so a body size constraint can express a limit of up to 8 KB
 * (with an oversized body counting as a match). Above that, which is the
 * case for the declared 1 MB, the rule checks what the client declares
 * instead: a `content-length` above the limit is blocked before AppSync
 * reads the body. A chunked body sends no length; AppSync's own 1 MB quota
 * (413) still bounds it.
 */
export function bodySizeRule(prefix: string, priority: number, maxRequestBytes: number): Wafv2WebAclRule {
  const lengthRegex = integerAboveRegex(maxRequestBytes);
  if (lengthRegex.length > WAF_REGEX_MAX_CHARS)
    throw new Error(
      `The content-length pattern for ${maxRequestBytes} bytes is ${lengthRegex.length} characters; WAF allows ${WAF_REGEX_MAX_CHARS}`,
    );
  const statement =
    maxRequestBytes <= WAF_BODY_INSPECTION_BYTES
      ? {
          size_constraint_statement: {
            comparison_operator: 'GT',
            size: maxRequestBytes,
            field_to_match: { body: { oversize_handling: 'MATCH' } },
            text_transformation: [{ priority: 0, type: 'NONE' }],
          },
        }
      : {
          regex_match_statement: {
            regex_string: lengthRegex,
            field_to_match: { single_header: { name: 'content-length' } },
            text_transformation: [{ priority: 0, type: 'NONE' }],
          },
        };
  return { name: 'body-size', priority, action: { block: {} }, statement, visibilityConfig: visibility(`${prefix}-body-size`) };
}

/**
 * A regular expression matching exactly the decimal integers above `limit`
 * (leading zeros allowed): any number with more digits, or one of as many
 * digits that is larger at its first differing digit.
 */
export function integerAboveRegex(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`integerAboveRegex: ${limit} is not a non-negative integer`);
  const digits = String(limit);
  const alternatives = [`[1-9]\\d{${digits.length},}`];
  for (let index = 0; index < digits.length; index++) {
    const digit = Number(digits[index]);
    if (digit === 9) continue;
    const rest = digits.length - index - 1;
    const next = digit + 1 === 9 ? '9' : `[${digit + 1}-9]`;
    // The first digit of a number with as many digits is never 0, and the prefix keeps it so.
    const tail = rest === 0 ? '' : rest === 1 ? '\\d' : `\\d{${rest}}`;
    alternatives.push(`${digits.slice(0, index)}${next}${tail}`);
  }
  return `^0*(?:${alternatives.join('|')})$`;
}

/**
 * AWS's known-bad-inputs (Log4j, Java deserialisation, localhost Host headers)
 * and common rule sets. The common set's `SizeRestrictions_BODY` blocks any
 * body over 8 KB: a GraphQL request within the declared limit (a large
 * mutation, a query with many fragments) may be longer, so when that limit is
 * above 8 KB the rule only counts (its metric still shows how often), and
 * `bodySizeRule` enforces the declared limit instead.
 */
function managedRules(prefix: string, firstPriority: number, maxRequestBytes: number): Wafv2WebAclRule[] {
  return MANAGED_RULE_GROUPS.map((name, index) => {
    const countInstead =
      name === 'AWSManagedRulesCommonRuleSet' && maxRequestBytes > WAF_BODY_INSPECTION_BYTES ? ['SizeRestrictions_BODY'] : [];
    return {
      name,
      priority: firstPriority + index,
      overrideAction: { none: {} },
      statement: {
        managed_rule_group_statement: {
          vendor_name: 'AWS',
          name,
          ...(countInstead.length > 0
            ? { rule_action_override: countInstead.map((rule) => ({ name: rule, action_to_use: { count: {} } })) }
            : {}),
        },
      },
      visibilityConfig: visibility(`${prefix}-${name}`),
    };
  });
}
