import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table/index.js';
import { Construct } from 'constructs';
import { physicalTableName, type AttributeType, type TableDeclaration, type TableName } from '../../declarations/tables.js';
import type { AccountContext } from './account.js';
import { EncryptionKey } from './keys.js';

export interface TablesProps {
  readonly account: AccountContext;
  readonly prefix: string;
  readonly declarations: Readonly<Record<TableName, TableDeclaration>>;
  readonly deletionProtection: boolean;
}

/** What a grant on a table needs: its ARN, its indexes' ARNs and its key. */
export interface ProvisionedTable {
  readonly name: TableName;
  readonly physicalName: string;
  readonly arn: string;
  readonly indexArns: readonly string[];
  readonly keyArn: string;
  /** The table's stream, when it declares one (what stream functions are granted to read). */
  readonly streamArn?: string;
}

/**
 * One DynamoDB table per declaration in declarations/tables.ts: on-demand, point-in-time
 * recovery, encrypted with its own rotating customer-managed key (so access to
 * one table's data can be granted, audited or revoked alone), with the declared
 * stream and TTL.
 */
export class Tables extends Construct {
  readonly tables: Readonly<Record<TableName, ProvisionedTable>>;
  readonly physicalNames: Readonly<Record<TableName, string>>;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    const tables = {} as Record<TableName, ProvisionedTable>;
    for (const name of Object.keys(props.declarations) as TableName[]) {
      const declaration = props.declarations[name];
      const physicalName = physicalTableName(props.prefix, name);
      const key = new EncryptionKey(this, `${name}-key`, {
        account: props.account,
        alias: physicalName,
        description: `DynamoDB table ${physicalName}`,
        protectFromDeletion: props.deletionProtection,
      });
      const table = new DynamodbTable(this, name, {
        name: physicalName,
        billingMode: 'PAY_PER_REQUEST',
        hashKey: declaration.partitionKey.name,
        rangeKey: declaration.sortKey?.name,
        attribute: attributeDefinitions(declaration),
        globalSecondaryIndex: declaration.globalSecondaryIndexes.map((index) => ({
          name: index.name,
          hashKey: index.partitionKey.name,
          rangeKey: index.sortKey?.name,
          projectionType: index.projection,
        })),
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
        ...(declaration.stream ? { streamEnabled: true, streamViewType: declaration.stream } : {}),
        ...(declaration.ttlAttribute ? { ttl: { attributeName: declaration.ttlAttribute, enabled: true } } : {}),
        deletionProtectionEnabled: props.deletionProtection,
      });
      tables[name] = {
        name,
        physicalName,
        arn: table.arn,
        indexArns: declaration.globalSecondaryIndexes.map((index) => `${table.arn}/index/${index.name}`),
        keyArn: key.arn,
        ...(declaration.stream ? { streamArn: table.streamArn } : {}),
      };
    }
    this.tables = tables;
    this.physicalNames = Object.fromEntries(Object.values(tables).map((t: ProvisionedTable) => [t.name, t.physicalName])) as Record<
      TableName,
      string
    >;
  }
}

/**
 * DynamoDB wants exactly the attributes used by a key of the table or an
 * index, each once; declaring any other attribute fails the apply.
 */
export function attributeDefinitions(declaration: TableDeclaration): { name: string; type: AttributeType }[] {
  const keys = [declaration.partitionKey, declaration.sortKey];
  for (const index of declaration.globalSecondaryIndexes) keys.push(index.partitionKey, index.sortKey);
  const types = new Map<string, AttributeType>();
  for (const key of keys) {
    if (!key) continue;
    const known = types.get(key.name);
    if (known && known !== key.type) {
      throw new Error(`Table ${declaration.name}: attribute ${key.name} is declared as both ${known} and ${key.type}`);
    }
    types.set(key.name, key.type);
  }
  return [...types].map(([name, type]) => ({ name, type }));
}
