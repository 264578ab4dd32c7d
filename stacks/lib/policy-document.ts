/**
 * IAM policy documents as typed values, serialised with JSON.stringify rather
 * than Terraform's jsonencode(): the synthesized JSON then carries the policy
 * as a JSON string (with `${...}` references inside), which the policy tests
 * parse and audit statement by statement.
 */

export type ConditionOperator = 'StringEquals' | 'StringLike' | 'ArnEquals' | 'ArnLike' | 'Bool';

export interface PolicyPrincipal {
  readonly AWS?: string | readonly string[];
  readonly Service?: string | readonly string[];
}

export interface PolicyStatement {
  /** Alphanumeric only; IAM rejects anything else. */
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: PolicyPrincipal;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Partial<Record<ConditionOperator, Readonly<Record<string, string | readonly string[]>>>>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  for (const statement of statements) {
    if (statement.Sid !== undefined && !/^[A-Za-z0-9]+$/.test(statement.Sid)) throw new Error(`Invalid statement id ${statement.Sid}`);
    const actions = typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
    if (actions.length === 0) throw new Error(`Statement ${statement.Sid ?? ''} grants no action`);
  }
  const document: PolicyDocument = { Version: '2012-10-17', Statement: statements };
  return JSON.stringify(document);
}

/** Trust policy letting one AWS service assume a role. */
export function assumeRolePolicy(service: string, sourceAccount?: string): string {
  return policyDocument([
    {
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sts:AssumeRole',
      // Confused-deputy guard: only this account's resources of that service may use the role.
      ...(sourceAccount ? { Condition: { StringEquals: { 'aws:SourceAccount': sourceAccount } } } : {}),
    },
  ]);
}
