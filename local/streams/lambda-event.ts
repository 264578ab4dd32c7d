import type { _Record as StreamsRecord, AttributeValue as StreamsAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';

/**
 * Turns a DynamoDB Streams API record (as the SDK parses GetRecords) into the
 * record Lambda puts in a DynamoDB stream event: the same fields, JSON-shaped,
 * so binary values are base64 strings and the creation time is epoch seconds,
 * plus `eventSourceARN` naming the stream.
 */
export function toLambdaRecord(record: StreamsRecord, streamArn: string, fallbackRegion: string): DynamoDBRecord {
  const change = record.dynamodb;
  const dynamodb: StreamRecord = {
    ...(change?.ApproximateCreationDateTime
      ? { ApproximateCreationDateTime: Math.floor(change.ApproximateCreationDateTime.getTime() / 1000) }
      : {}),
    ...(change?.Keys ? { Keys: toLambdaImage(change.Keys) } : {}),
    ...(change?.NewImage ? { NewImage: toLambdaImage(change.NewImage) } : {}),
    ...(change?.OldImage ? { OldImage: toLambdaImage(change.OldImage) } : {}),
    ...(change?.SequenceNumber !== undefined ? { SequenceNumber: change.SequenceNumber } : {}),
    ...(change?.SizeBytes !== undefined ? { SizeBytes: change.SizeBytes } : {}),
    ...(change?.StreamViewType ? { StreamViewType: change.StreamViewType } : {}),
  };
  return {
    ...(record.eventID !== undefined ? { eventID: record.eventID } : {}),
    ...(record.eventName ? { eventName: record.eventName } : {}),
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? fallbackRegion,
    dynamodb,
    eventSourceARN: streamArn,
    // Present for TTL deletions: { type: 'Service', principalId: 'dynamodb.amazonaws.com' }.
    ...(record.userIdentity ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } } : {}),
  };
}

/**
 * A stream record for an item, as Lambda would deliver it: for probes and
 * tests that invoke a stream function directly (e.g. redelivering a record).
 */
export function lambdaRecordFor(options: {
  readonly streamArn: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Record<string, unknown>;
  readonly newImage?: Record<string, unknown>;
  readonly oldImage?: Record<string, unknown>;
  readonly sequenceNumber: string;
  readonly region?: string;
}): DynamoDBRecord {
  const image = (item: Record<string, unknown>): Record<string, StreamsAttributeValue> =>
    marshall(item, { removeUndefinedValues: true }) as Record<string, StreamsAttributeValue>;
  return toLambdaRecord(
    {
      eventID: `${options.sequenceNumber}-${options.eventName}`,
      eventName: options.eventName,
      awsRegion: options.region ?? 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: new Date(),
        Keys: image(options.keys),
        ...(options.newImage ? { NewImage: image(options.newImage) } : {}),
        ...(options.oldImage ? { OldImage: image(options.oldImage) } : {}),
        SequenceNumber: options.sequenceNumber,
        SizeBytes: JSON.stringify([options.keys, options.newImage, options.oldImage]).length,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    },
    options.streamArn,
    options.region ?? 'us-east-1',
  );
}

function toLambdaImage(image: Record<string, StreamsAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)]));
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

function toLambdaValue(value: StreamsAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  throw new Error(`Unsupported attribute value in stream record: ${JSON.stringify(value)}`);
}

/** DynamoDB sequence numbers are decimal strings of varying length: compare them as numbers. */
export function compareSequenceNumbers(a: string, b: string): number {
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
