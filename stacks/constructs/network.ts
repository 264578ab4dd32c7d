import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones/index.js';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log/index.js';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import type { LogRetentionDays } from '../config.js';
import { logStreamWriteActions } from '../policy/allowed-wildcards.js';
import type { AccountContext } from './account.js';
import { ServiceRole } from './iam.js';
import { cloudwatchLogsKeyStatement, EncryptionKey } from './keys.js';

export interface NetworkProps {
  readonly account: AccountContext;
  readonly prefix: string;
  readonly region: string;
  /** Of the flow log's group, like every other log group of the environment. */
  readonly logRetentionDays: LogRetentionDays;
  readonly protectFromDeletion: boolean;
  /** Private subnets, one per AZ; 2 at least, so the cache and the functions survive one AZ. */
  readonly availabilityZones?: number;
  /** Adds a Secrets Manager interface endpoint (the replication group's AUTH token). */
  readonly secretsManagerEndpoint: boolean;
}

const HTTPS = 443;

/**
 * A private network for the cache and the functions that use it, and nothing
 * else. No internet gateway or NAT: the functions talk only to the cache, to
 * DynamoDB through a gateway endpoint on the private route table and, when the
 * cache has an AUTH token, to Secrets Manager through an interface endpoint
 * with private DNS. Lambda's logs and X-Ray traces leave through the Lambda
 * service, not the function's network interfaces, so they need no egress here.
 *
 * Security groups, most specific first: the functions' group may only send to
 * the cache group on its port, to DynamoDB's prefix list and to the endpoint
 * group on 443; the cache group (`allowCacheFrom`) admits only the functions'
 * group. The VPC's default group is emptied so nothing lands in an open one.
 *
 * Every flow of the VPC (accepted and rejected) is logged to a KMS-encrypted
 * log group with the environment's retention: a rejected flow from a function
 * is the first sign of a missing endpoint or a compromised package.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly subnetIds: readonly string[];
  readonly functionsSecurityGroup: SecurityGroup;
  readonly routeTable: RouteTable;
  readonly flowLog: FlowLog;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.prefix = props.prefix;
    const zones = props.availabilityZones ?? 2;
    if (zones < 2) throw new Error('The cache network needs subnets in at least 2 availability zones');
    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: '10.20.0.0/16',
      // Private DNS of the interface endpoint needs both.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: props.prefix },
    });
    new DefaultSecurityGroup(this, 'default-sg', { vpcId: this.vpc.id, ingress: [], egress: [] });
    this.flowLog = this.logFlows(props);

    const azs = new DataAwsAvailabilityZones(this, 'azs', { state: 'available' });
    this.routeTable = new RouteTable(this, 'private-routes', { vpcId: this.vpc.id, tags: { Name: `${props.prefix}-private` } });
    const subnets = Array.from({ length: zones }, (_, index) => {
      const subnet = new Subnet(this, `private-${index}`, {
        vpcId: this.vpc.id,
        availabilityZone: Fn.element(azs.names, index),
        cidrBlock: `10.20.${index * 16}.0/20`,
        // Private: nothing here gets a public address (and there is no internet gateway to use one).
        mapPublicIpOnLaunch: false,
        tags: { Name: `${props.prefix}-private-${index}` },
      });
      new RouteTableAssociation(this, `private-${index}-routes`, { subnetId: subnet.id, routeTableId: this.routeTable.id });
      return subnet;
    });
    this.subnetIds = subnets.map((subnet) => subnet.id);

    this.functionsSecurityGroup = new SecurityGroup(this, 'functions-sg', {
      name: `${props.prefix}-functions`,
      description: 'Lambda functions that use the cache',
      vpcId: this.vpc.id,
    });

    const dynamodb = new VpcEndpoint(this, 'dynamodb', {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.dynamodb`,
      vpcEndpointType: 'Gateway',
      routeTableIds: [this.routeTable.id],
    });
    new VpcSecurityGroupEgressRule(this, 'functions-to-dynamodb', {
      securityGroupId: this.functionsSecurityGroup.id,
      description: 'DynamoDB through the gateway endpoint',
      ipProtocol: 'tcp',
      fromPort: HTTPS,
      toPort: HTTPS,
      prefixListId: dynamodb.prefixListId,
    });

    if (props.secretsManagerEndpoint) {
      const endpointsGroup = new SecurityGroup(this, 'endpoints-sg', {
        name: `${props.prefix}-endpoints`,
        description: 'Interface endpoints, reachable from the functions only',
        vpcId: this.vpc.id,
      });
      new VpcSecurityGroupIngressRule(this, 'endpoints-from-functions', {
        securityGroupId: endpointsGroup.id,
        description: 'HTTPS from the functions',
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        referencedSecurityGroupId: this.functionsSecurityGroup.id,
      });
      new VpcSecurityGroupEgressRule(this, 'functions-to-endpoints', {
        securityGroupId: this.functionsSecurityGroup.id,
        description: 'Interface endpoints (Secrets Manager)',
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        referencedSecurityGroupId: endpointsGroup.id,
      });
      new VpcEndpoint(this, 'secretsmanager', {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${props.region}.secretsmanager`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: [...this.subnetIds],
        securityGroupIds: [endpointsGroup.id],
      });
    }
  }

  /** VPC flow logs to their own encrypted group, through a role that may write there and nowhere else. */
  private logFlows(props: NetworkProps): FlowLog {
    const { account, prefix } = props;
    const logGroupName = `/aws/vpc/flow-logs/${prefix}`;
    const key = new EncryptionKey(this, 'flow-logs-key', {
      account,
      alias: `${prefix}-flow-logs`,
      description: `VPC flow logs of ${prefix}`,
      protectFromDeletion: props.protectFromDeletion,
      statements: [cloudwatchLogsKeyStatement(account, [account.logGroupArn(logGroupName)])],
    });
    const logGroup = new CloudwatchLogGroup(this, 'flow-logs', {
      name: logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: key.arn,
    });
    const role = new ServiceRole(this, 'flow-logs-role', {
      roleName: `${prefix}-vpc-flow-logs`,
      description: `VPC flow logs of ${prefix}`,
      service: 'vpc-flow-logs.amazonaws.com',
      sourceAccount: account.accountId,
      statements: [
        // The group exists before the flow log, so no logs:CreateLogGroup (and no Resource "*").
        { Sid: 'LogStreams', Effect: 'Allow', Action: logStreamWriteActions, Resource: [`${logGroup.arn}:*`] },
        { Sid: 'DescribeStreams', Effect: 'Allow', Action: ['logs:DescribeLogStreams'], Resource: [logGroup.arn] },
      ],
    });
    return new FlowLog(this, 'flow-log', {
      vpcId: this.vpc.id,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      // One-minute records: a rejected connection shows up while someone is still looking.
      maxAggregationInterval: 60,
      tags: { Name: prefix },
    });
  }

  /**
   * The cache's own group: admits the functions' group on the cache port and
   * nothing else, and the functions' group may send there and nowhere else new.
   */
  cacheSecurityGroup(port: number, description: string): SecurityGroup {
    const group = new SecurityGroup(this, 'cache-sg', { name: `${this.prefix}-cache`, description, vpcId: this.vpc.id });
    new VpcSecurityGroupIngressRule(this, 'cache-from-functions', {
      securityGroupId: group.id,
      description: 'Cache port from the functions',
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: this.functionsSecurityGroup.id,
    });
    new VpcSecurityGroupEgressRule(this, 'functions-to-cache', {
      securityGroupId: this.functionsSecurityGroup.id,
      description: 'The cache',
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: group.id,
    });
    return group;
  }
}
