import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping/index.js';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue/index.js';
import { Construct } from 'constructs';
import { declaredEventSources } from '../../declarations/event-sources.js';
import type { TableDeclaration, TableName } from '../../declarations/tables.js';
import type { StackFunctionDeclaration } from '../declarations.js';
import type { AccountContext } from './account.js';
import type { DeployedFunction } from './functions.js';
import { EncryptionKey } from './keys.js';
import type { MonitoredQueue } from './observability.js';
import type { Tables } from './tables.js';

export interface EventsProps {
  readonly account: AccountContext;
  readonly prefix: string;
  readonly region: string;
  readonly protectFromDeletion: boolean;
  readonly declarations: Readonly<Record<string, StackFunctionDeclaration>>;
  readonly tableDeclarations: Readonly<Record<TableName, TableDeclaration>>;
  readonly functions: ReadonlyMap<string, DeployedFunction>;
  readonly tables: Tables;
}

/** 14 days, SQS's maximum: a dead letter is evidence, kept as long as SQS allows. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * One Lambda event source mapping per declared stream event source
 * (`declaredEventSources`, the same list the local runtime runs), with the
 * declared batching, retry and bisect settings and `ReportBatchItemFailures`,
 * and, where the source declares `deadLetter`, its own SQS on-failure queue.
 *
 * Lambda sends on-failure records with the *function's* role, so that role is
 * granted `sqs:SendMessage` on exactly its queues and use of the queues' key
 * through SQS only. The queues share one customer-managed key (SQS-managed
 * SSE would also do; a CMK keeps who may read dead letters an IAM decision).
 */
export class Events extends Construct {
  readonly mappings: readonly LambdaEventSourceMapping[];
  readonly deadLetterQueues: readonly MonitoredQueue[];

  constructor(scope: Construct, id: string, props: EventsProps) {
    super(scope, id);
    const sources = declaredEventSources(props.declarations, props.tableDeclarations);
    const mappings: LambdaEventSourceMapping[] = [];
    const queues: MonitoredQueue[] = [];
    if (sources.length === 0) {
      this.mappings = mappings;
      this.deadLetterQueues = queues;
      return;
    }
    const key = sources.some(({ source }) => source.deadLetter)
      ? new EncryptionKey(this, 'dead-letter-key', {
          account: props.account,
          alias: `${props.prefix}-dead-letters`,
          description: `Dead-letter queues of the ${props.prefix} event source mappings`,
          protectFromDeletion: props.protectFromDeletion,
        })
      : undefined;

    for (const { functionName, source } of sources) {
      const fn = props.functions.get(functionName);
      if (!fn) throw new Error(`Event source ${functionName}:${source.table} names a function the stack did not create`);
      const table = props.tables.tables[source.table];
      if (!table.streamArn) throw new Error(`Table ${source.table} declares no stream for ${functionName} to read`);
      const mappingScope = new Construct(this, `${functionName}-${source.table}`);

      let destinationConfig: { onFailure: { destinationArn: string } } | undefined;
      if (source.deadLetter && key) {
        const queueName = `${props.prefix}-${functionName}-${source.table}-dlq`;
        const queue = new SqsQueue(mappingScope, 'dead-letters', {
          name: queueName,
          messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
          kmsMasterKeyId: key.arn,
          // Data keys reused for 5 minutes: fewer KMS calls; dead letters are rare anyway.
          kmsDataKeyReusePeriodSeconds: 300,
        });
        fn.role.addStatements([
          { Sid: `${sid(source.table)}DeadLetters`, Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [queue.arn] },
          {
            Sid: `${sid(source.table)}DeadLetterKey`,
            Effect: 'Allow',
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: [key.arn],
            Condition: { StringEquals: { 'kms:ViaService': `sqs.${props.region}.amazonaws.com` } },
          },
        ]);
        destinationConfig = { onFailure: { destinationArn: queue.arn } };
        queues.push({ name: `${functionName}-${source.table}`, queueName: queue.name });
      }

      mappings.push(
        new LambdaEventSourceMapping(mappingScope, 'mapping', {
          eventSourceArn: table.streamArn,
          // The alias, not the function: records go to the published `live` version (and its canary split).
          functionName: fn.alias.arn,
          startingPosition: source.startingPosition,
          batchSize: source.batchSize,
          maximumBatchingWindowInSeconds: source.maximumBatchingWindowInSeconds,
          maximumRetryAttempts: source.maximumRetryAttempts,
          bisectBatchOnFunctionError: source.bisectBatchOnFunctionError,
          functionResponseTypes: [...source.functionResponseTypes],
          ...(destinationConfig ? { destinationConfig } : {}),
          // Creation validates that the role can read the stream (and send to the queue).
          dependsOn: [fn.role.policy],
        }),
      );
    }
    this.mappings = mappings;
    this.deadLetterQueues = queues;
  }
}

function sid(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9]/g, '');
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
}
