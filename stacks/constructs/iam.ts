import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { Lazy } from 'cdktf';
import { Construct } from 'constructs';
import type { TableAccess } from '../../declarations/functions.js';
import { assumeRolePolicy, policyDocument, type PolicyStatement } from '../lib/policy-document.js';
import { logStreamWriteActions, xrayWriteActions } from '../policy/allowed-wildcards.js';
import type { ProvisionedTable } from './tables.js';

const readActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'] as const;

/**
 * DynamoDB actions per declared access. Transactions need no action of their
 * own: IAM authorizes each TransactWriteItems/TransactGetItems element as the
 * Put/Update/Delete/ConditionCheck/Get it contains.
 */
export const dynamodbActions: Readonly<Record<TableAccess, readonly string[]>> = {
  read: readActions,
  readwrite: [...readActions, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
};

/** Indexes only serve queries; no other action applies to an index ARN. */
export const indexActions = ['dynamodb:Query'] as const;

export interface ServiceRoleProps {
  readonly roleName: string;
  readonly description: string;
  /** Service principal allowed to assume the role, e.g. `lambda.amazonaws.com`. */
  readonly service: string;
  readonly sourceAccount?: string;
  readonly statements: readonly PolicyStatement[];
}

/** A role for one AWS service with one inline policy: everything the role may do is visible in one place. */
export class ServiceRole extends Construct {
  readonly role: IamRole;
  readonly policy: IamRolePolicy;
  private readonly statements: PolicyStatement[];

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    if (props.roleName.length > 64) throw new Error(`IAM role name ${props.roleName} exceeds 64 characters`);
    this.statements = [...props.statements];
    this.role = new IamRole(this, 'role', {
      name: props.roleName,
      description: props.description,
      assumeRolePolicy: assumeRolePolicy(props.service, props.sourceAccount),
    });
    // Lazy, so grants on resources created after the role (which reference it) can still be added.
    const policy = Lazy.stringValue({
      produce: () => {
        if (this.statements.length === 0) throw new Error(`Role ${props.roleName} was given no permissions`);
        return policyDocument(this.statements);
      },
    });
    this.policy = new IamRolePolicy(this, 'policy', { name: 'least-privilege', role: this.role.id, policy });
  }

  addStatements(statements: readonly PolicyStatement[]): void {
    this.statements.push(...statements);
  }

  get arn(): string {
    return this.role.arn;
  }
}

export interface TableGrant {
  readonly table: ProvisionedTable;
  readonly access: TableAccess;
}

/**
 * What a resolver function may do: the declared access on each declared table
 * (and Query on its declared indexes), use of those tables' keys through
 * DynamoDB only, writing to its own log group, and sending traces.
 */
export function functionStatements(options: { grants: readonly TableGrant[]; logGroupArn: string; region: string }): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  for (const { table, access } of options.grants) {
    const id = sidPart(table.name);
    statements.push({ Sid: `${id}Table`, Effect: 'Allow', Action: dynamodbActions[access], Resource: [table.arn] });
    if (table.indexArns.length > 0) {
      statements.push({ Sid: `${id}Indexes`, Effect: 'Allow', Action: indexActions, Resource: table.indexArns });
    }
    statements.push({
      Sid: `${id}Key`,
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: [table.keyArn],
      Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${options.region}.amazonaws.com` } },
    });
  }
  statements.push({ Sid: 'Logs', Effect: 'Allow', Action: logStreamWriteActions, Resource: [`${options.logGroupArn}:*`] });
  statements.push({ Sid: 'Tracing', Effect: 'Allow', Action: xrayWriteActions, Resource: '*' });
  return statements;
}

/** What a Lambda event source mapping on a DynamoDB stream needs from the function's role, per stream read. */
export const streamReadActions = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
] as const;

/**
 * Reading the streams of a stream function's event sources: exactly those
 * streams' ARNs. (Records are decrypted with the table's key, which the
 * function's declared access to the same table already grants.)
 */
export function streamReadStatements(streams: readonly ProvisionedTable[]): PolicyStatement[] {
  return streams.map((table) => {
    if (!table.streamArn) throw new Error(`Table ${table.name} declares no stream to read`);
    return { Sid: `${sidPart(table.name)}Stream`, Effect: 'Allow', Action: streamReadActions, Resource: [table.streamArn] };
  });
}

function sidPart(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9]/g, '');
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
}
