import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition/index.js';
import { Construct } from 'constructs';

/** Account, partition and region of the deployment, for ARNs that must exist before the resource they name. */
export class AccountContext extends Construct {
  readonly accountId: string;
  readonly partition: string;
  readonly region: string;

  constructor(scope: Construct, id: string, region: string) {
    super(scope, id);
    this.accountId = new DataAwsCallerIdentity(this, 'caller').accountId;
    this.partition = new DataAwsPartition(this, 'partition').partition;
    this.region = region;
  }

  get rootPrincipal(): string {
    return `arn:${this.partition}:iam::${this.accountId}:root`;
  }

  logGroupArn(name: string): string {
    return `arn:${this.partition}:logs:${this.region}:${this.accountId}:log-group:${name}`;
  }
}
