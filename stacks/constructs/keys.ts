import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { Construct } from 'constructs';
import { policyDocument, type PolicyStatement } from '../lib/policy-document.js';
import { cloudwatchLogsKeyActions } from '../policy/allowed-wildcards.js';
import type { AccountContext } from './account.js';

export interface EncryptionKeyProps {
  readonly account: AccountContext;
  /** `alias/<name>`, so operators find the key by purpose. */
  readonly alias: string;
  readonly description: string;
  readonly protectFromDeletion: boolean;
  /** Grants beyond the account's own IAM delegation, e.g. a service principal. */
  readonly statements?: readonly PolicyStatement[];
}

/** A symmetric customer-managed key with yearly rotation and an explicit key policy. */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    this.key = new KmsKey(this, 'key', {
      description: props.description,
      enableKeyRotation: true,
      // The longest window leaves time to cancel a deletion that would make the data unreadable.
      deletionWindowInDays: props.protectFromDeletion ? 30 : 7,
      policy: policyDocument([
        {
          Sid: 'AccountAdministration',
          Effect: 'Allow',
          Principal: { AWS: props.account.rootPrincipal },
          Action: 'kms:*',
          Resource: '*',
        },
        ...(props.statements ?? []),
      ]),
    });
    new KmsAlias(this, 'alias', { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
  }

  get arn(): string {
    return this.key.arn;
  }
}

/** Key policy statement letting CloudWatch Logs use the key for exactly these log groups. */
export function cloudwatchLogsKeyStatement(account: AccountContext, logGroupArns: readonly string[]): PolicyStatement {
  return {
    Sid: 'CloudWatchLogsEncryption',
    Effect: 'Allow',
    Principal: { Service: `logs.${account.region}.amazonaws.com` },
    Action: cloudwatchLogsKeyActions,
    Resource: '*',
    Condition: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArns } },
  };
}
