import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard/index.js';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.js';
import { dashboardBody, serializeDashboard, type MetricSpec, type MetricWidgetSpec, type WidgetSpec } from '../lib/dashboard.js';
import { policyDocument } from '../lib/policy-document.js';
import { alarmTopicKeyActions } from '../policy/allowed-wildcards.js';
import type { AccountContext } from './account.js';
import { EncryptionKey } from './keys.js';

/** What the construct needs of a function: its names and its timeout (a p99 at the timeout can never alarm). */
export interface MonitoredFunction {
  readonly name: string;
  readonly physicalName: string;
  readonly timeoutSeconds: number;
}

export interface MonitoredApi {
  /** The AppSync API id: AppSync's `GraphQLAPIId` metric dimension. */
  readonly id: string;
  readonly name: string;
}

/** A WAFv2 web ACL (REGIONAL, in the stack's region). */
export interface MonitoredWebAcl {
  /** WAF's `WebACL` metric dimension. */
  readonly name: string;
}

export interface MonitoredTable {
  readonly name: string;
  readonly physicalName: string;
}

/** A queue whose every message is a failure (a dead-letter queue): any visible message alarms. */
export interface MonitoredQueue {
  readonly name: string;
  /** Physical name (SQS's `QueueName` dimension), e.g. an `SqsQueue`'s `name`. */
  readonly queueName: string;
}

export interface ObservabilityProps {
  readonly account: AccountContext;
  readonly prefix: string;
  readonly config: Pick<EnvironmentConfig, 'alarms' | 'alarmEmail' | 'deletionProtection' | 'region'>;
  readonly functions: readonly MonitoredFunction[];
  readonly api: MonitoredApi;
  /** The web ACL in front of the API, when the environment has one. */
  readonly webAcl?: MonitoredWebAcl;
  readonly tables: readonly MonitoredTable[];
  /** Dead-letter queues (constructs/events.ts: one per event source mapping with `deadLetter`). */
  readonly queues?: readonly MonitoredQueue[];
}

/** Every threshold is "per period": counts over 5 minutes, percentiles of 5 minutes of samples. */
const PERIOD_SECONDS = 300;
/** A DLQ message is a lost event: look every minute. */
const DLQ_PERIOD_SECONDS = 60;
const DASHBOARD_PERIOD_SECONDS = 60;

type AlarmSettings = Omit<CloudwatchMetricAlarmConfig, 'alarmName' | 'alarmActions' | 'okActions'>;

/**
 * Alarms and a dashboard for one deployment. Alarms (each notifying the
 * KMS-encrypted alarm topic, on alarm and on recovery):
 * - per function: error rate, throttles, p99 duration;
 * - the API: 5XX errors, 4XX rate (which includes AppSync's throttling: it
 *   has no throttle metric of its own), p99 latency, real-time connect
 *   errors and publish errors;
 * - the web ACL, if any: blocked requests;
 * - per table: read + write throttle events;
 * - per dead-letter queue: any visible message.
 *
 * Function metrics use the FunctionName dimension alone, which CloudWatch
 * aggregates over every version and alias: it covers the `live` alias, both
 * sides of a canary, and any invoker that calls the function unqualified
 * (an event source mapping), so no invocation path goes unwatched.
 */
export class Observability extends Construct {
  readonly topic: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];
  readonly dashboard: CloudwatchDashboard;
  private readonly props: ObservabilityProps;
  private readonly alarmScope = new Construct(this, 'alarms');

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.props = props;
    const { account, config, prefix } = props;

    const key = new EncryptionKey(this, 'topic-key', {
      account,
      alias: `${prefix}-alarms`,
      description: `SNS topic of the ${prefix} alarms`,
      protectFromDeletion: config.deletionProtection,
      statements: [
        {
          Sid: 'CloudWatchAlarms',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: alarmTopicKeyActions,
          Resource: '*',
        },
      ],
    });
    this.topic = new SnsTopic(this, 'topic', { name: `${prefix}-alarms`, displayName: `${prefix} alarms`, kmsMasterKeyId: key.arn });
    new SnsTopicPolicy(this, 'topic-policy', {
      arn: this.topic.arn,
      policy: policyDocument([
        {
          Sid: 'CloudWatchAlarms',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['sns:Publish'],
          Resource: [this.topic.arn],
          // Only this deployment's alarms, in this account (no confused deputy).
          Condition: {
            StringEquals: { 'aws:SourceAccount': account.accountId },
            ArnLike: {
              'aws:SourceArn': `arn:${account.partition}:cloudwatch:${account.region}:${account.accountId}:alarm:${this.alarmName('*')}`,
            },
          },
        },
      ]),
    });
    if (config.alarmEmail !== undefined) {
      new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: config.alarmEmail });
    }

    for (const fn of props.functions) this.functionAlarms(fn);
    this.apiAlarms(props.api);
    if (props.webAcl) this.webAclAlarm(props.webAcl);
    for (const table of props.tables) this.tableAlarm(table);
    for (const queue of props.queues ?? []) this.queueAlarm(queue);

    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: prefix,
      dashboardBody: serializeDashboard(
        dashboardBody(this.dashboardRows(), { region: config.region, period: DASHBOARD_PERIOD_SECONDS, start: '-PT3H' }),
      ),
    });
  }

  /** Every alarm name starts with the prefix: the topic policy admits exactly these. */
  private alarmName(suffix: string): string {
    return `${this.props.prefix}-${suffix}`;
  }

  /** `suffix` names the service first (`lambda-catalog-throttles`), so a function and a table of one name never collide. */
  private alarm(suffix: string, settings: AlarmSettings): void {
    this.alarms.push(
      new CloudwatchMetricAlarm(this.alarmScope, suffix, {
        alarmName: this.alarmName(suffix),
        alarmActions: [this.topic.arn],
        okActions: [this.topic.arn],
        // No traffic is not a failure; percentiles from a handful of samples are noise.
        treatMissingData: 'notBreaching',
        ...settings,
      }),
    );
  }

  private functionAlarms(fn: MonitoredFunction): void {
    const { alarms } = this.props.config;
    const dimensions = lambdaDimensions(fn);
    const lambdaMetric = (metricName: string) => ({ namespace: 'AWS/Lambda', metricName, dimensions, period: PERIOD_SECONDS, stat: 'Sum' });
    this.alarm(`lambda-${fn.name}-error-rate`, {
      alarmDescription: `${fn.physicalName}: more than ${alarms.lambdaErrorRatePercent}% of invocations failed in 5 minutes (unhandled errors, timeouts; domain errors are answers, not failures). See the function's log group.`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.lambdaErrorRatePercent,
      evaluationPeriods: 1,
      metricQuery: [
        { id: 'errors', metric: lambdaMetric('Errors'), returnData: false },
        { id: 'invocations', metric: lambdaMetric('Invocations'), returnData: false },
        { id: 'rate', expression: 'IF(invocations > 0, 100 * errors / invocations, 0)', label: 'Error rate (%)', returnData: true },
      ],
    });
    this.alarm(`lambda-${fn.name}-throttles`, {
      alarmDescription: `${fn.physicalName}: more than ${alarms.lambdaThrottles} throttled invocations in 5 minutes (reserved concurrency or the account limit reached).`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.lambdaThrottles,
      evaluationPeriods: 1,
      namespace: 'AWS/Lambda',
      metricName: 'Throttles',
      dimensions,
      statistic: 'Sum',
      period: PERIOD_SECONDS,
    });
    const timeoutMs = fn.timeoutSeconds * 1000;
    if (alarms.lambdaDurationP99Ms >= timeoutMs) {
      throw new Error(`alarms.lambdaDurationP99Ms (${alarms.lambdaDurationP99Ms}) must be below ${fn.name}'s timeout (${timeoutMs} ms)`);
    }
    this.alarm(`lambda-${fn.name}-duration-p99`, {
      alarmDescription: `${fn.physicalName}: p99 duration above ${alarms.lambdaDurationP99Ms} ms for 10 minutes (timeout ${timeoutMs} ms).`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.lambdaDurationP99Ms,
      // Two periods: one slow burst (a wave of cold starts after a deploy) should not page.
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      evaluateLowSampleCountPercentiles: 'ignore',
      namespace: 'AWS/Lambda',
      metricName: 'Duration',
      dimensions,
      extendedStatistic: 'p99',
      period: PERIOD_SECONDS,
    });
  }

  private apiAlarms(api: MonitoredApi): void {
    const { alarms } = this.props.config;
    const dimensions = { GraphQLAPIId: api.id };
    this.alarm('appsync-5xx', {
      alarmDescription: `AppSync API ${api.name}: more than ${alarms.appsyncServerErrors} server errors (5XX) in 5 minutes.`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.appsyncServerErrors,
      evaluationPeriods: 1,
      namespace: 'AWS/AppSync',
      metricName: '5XXError',
      dimensions,
      statistic: 'Sum',
      period: PERIOD_SECONDS,
    });
    this.alarm('appsync-latency-p99', {
      alarmDescription: `AppSync API ${api.name}: p99 request latency above ${alarms.appsyncLatencyP99Ms} ms for 10 minutes.`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.appsyncLatencyP99Ms,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      evaluateLowSampleCountPercentiles: 'ignore',
      namespace: 'AWS/AppSync',
      metricName: 'Latency',
      dimensions,
      extendedStatistic: 'p99',
      period: PERIOD_SECONDS,
    });
    this.apiErrorAlarms(api);
  }

  /**
   * Wider API alarms. Real-time counts are sums of client and server errors:
   * a refused connect is as invisible to a shopper as a failed one.
   */
  private apiErrorAlarms(api: MonitoredApi): void {
    const { alarms } = this.props.config;
    const metric = (metricName: string) => ({
      namespace: 'AWS/AppSync',
      metricName,
      dimensions: { GraphQLAPIId: api.id },
      period: PERIOD_SECONDS,
      stat: 'Sum',
    });
    this.alarm('appsync-4xx-rate', {
      alarmDescription: `AppSync API ${api.name}: more than ${alarms.appsyncClientErrorRatePercent}% of requests answered 4XX in 5 minutes (throttling, rejected auth, invalid requests).`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.appsyncClientErrorRatePercent,
      evaluationPeriods: 1,
      metricQuery: [
        { id: 'errors', metric: metric('4XXError'), returnData: false },
        { id: 'requests', metric: metric('Requests'), returnData: false },
        { id: 'rate', expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)', label: '4XX rate (%)', returnData: true },
      ],
    });
    const sumAlarm = (suffix: string, threshold: number, what: string, client: string, server: string) =>
      this.alarm(suffix, {
        alarmDescription: `AppSync API ${api.name}: more than ${threshold} ${what} in 5 minutes (${client} + ${server}).`,
        comparisonOperator: 'GreaterThanThreshold',
        threshold,
        evaluationPeriods: 1,
        metricQuery: [
          { id: 'client', metric: metric(client), returnData: false },
          { id: 'server', metric: metric(server), returnData: false },
          // Published only when something happened: a missing series is zero.
          { id: 'total', expression: 'FILL(client, 0) + FILL(server, 0)', label: what, returnData: true },
        ],
      });
    sumAlarm(
      'appsync-connect-errors',
      alarms.appsyncConnectErrors,
      'failed real-time connects',
      'ConnectClientError',
      'ConnectServerError',
    );
    sumAlarm(
      'appsync-publish-errors',
      alarms.appsyncPublishErrors,
      'subscription messages not published',
      'PublishDataMessageClientError',
      'PublishDataMessageServerError',
    );
  }

  private webAclAlarm(webAcl: MonitoredWebAcl): void {
    const { alarms, region } = this.props.config;
    this.alarm('waf-blocked-requests', {
      alarmDescription: `WAF web ACL ${webAcl.name}: more than ${alarms.wafBlockedRequests} requests blocked in 5 minutes (rate limits, body size, managed rules). Check the sampled requests in the WAF console.`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.wafBlockedRequests,
      evaluationPeriods: 1,
      namespace: 'AWS/WAFV2',
      metricName: 'BlockedRequests',
      dimensions: wafDimensions(webAcl, region),
      statistic: 'Sum',
      period: PERIOD_SECONDS,
    });
  }

  private tableAlarm(table: MonitoredTable): void {
    const { alarms } = this.props.config;
    const metric = (metricName: string) => ({
      namespace: 'AWS/DynamoDB',
      metricName,
      dimensions: { TableName: table.physicalName },
      period: PERIOD_SECONDS,
      stat: 'Sum',
    });
    this.alarm(`dynamodb-${table.name}-throttles`, {
      alarmDescription: `DynamoDB table ${table.physicalName}: more than ${alarms.dynamodbThrottledRequests} throttled reads and writes in 5 minutes (on-demand still throttles a hot partition or a sudden doubling of traffic).`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: alarms.dynamodbThrottledRequests,
      evaluationPeriods: 1,
      metricQuery: [
        { id: 'reads', metric: metric('ReadThrottleEvents'), returnData: false },
        { id: 'writes', metric: metric('WriteThrottleEvents'), returnData: false },
        // DynamoDB publishes throttle events only when there are some: a missing series is zero.
        { id: 'throttles', expression: 'FILL(reads, 0) + FILL(writes, 0)', label: 'Throttle events', returnData: true },
      ],
    });
  }

  private queueAlarm(queue: MonitoredQueue): void {
    this.alarm(`sqs-${queue.name}-depth`, {
      alarmDescription: `Dead-letter queue ${queue.name}: holds messages that failed processing; inspect and redrive them.`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 1,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: queue.queueName },
      statistic: 'Maximum',
      period: DLQ_PERIOD_SECONDS,
    });
  }

  private dashboardRows(): WidgetSpec[][] {
    const { alarms } = this.props.config;
    const { api, prefix } = this.props;
    const rows: WidgetSpec[][] = [
      [
        {
          kind: 'text',
          width: 24,
          height: 2,
          markdown: `# ${prefix}\nAlarms notify the SNS topic \`${prefix}-alarms\`. Function graphs cover every version and alias of the function.`,
        },
      ],
      [{ kind: 'alarm', title: 'Alarms', width: 24, height: 3, alarms: this.alarms.map((alarm) => alarm.arn) }],
    ];

    const appsync = (metricName: string, stat: MetricSpec['stat'], label?: string): MetricSpec => ({
      namespace: 'AWS/AppSync',
      metricName,
      dimensions: { GraphQLAPIId: api.id },
      stat,
      ...(label ? { label } : {}),
    });
    rows.push([
      { kind: 'metric', width: 8, title: `API ${api.name}: requests`, metrics: [appsync('Requests', 'Sum')] },
      {
        kind: 'metric',
        width: 8,
        title: 'API: 4XX / 5XX errors',
        metrics: [appsync('4XXError', 'Sum', '4XX'), appsync('5XXError', 'Sum', '5XX')],
      },
      {
        kind: 'metric',
        width: 8,
        title: 'API: latency (ms)',
        metrics: [appsync('Latency', 'p50', 'p50'), appsync('Latency', 'p99', 'p99')],
        thresholds: [{ label: 'p99 alarm', value: alarms.appsyncLatencyP99Ms }],
      },
    ]);
    rows.push([
      {
        kind: 'metric',
        width: 8,
        title: 'API: real-time connects',
        metrics: [
          appsync('ConnectSuccess', 'Sum', 'success'),
          appsync('ConnectClientError', 'Sum', 'client error'),
          appsync('ConnectServerError', 'Sum', 'server error'),
        ],
        thresholds: [{ label: 'errors alarm', value: alarms.appsyncConnectErrors }],
      },
      {
        kind: 'metric',
        width: 8,
        title: 'API: subscription messages published',
        metrics: [
          appsync('PublishDataMessageSuccess', 'Sum', 'success'),
          appsync('PublishDataMessageClientError', 'Sum', 'client error'),
          appsync('PublishDataMessageServerError', 'Sum', 'server error'),
        ],
        thresholds: [{ label: 'errors alarm', value: alarms.appsyncPublishErrors }],
      },
      {
        kind: 'metric',
        width: 8,
        // No throttle metric exists: throttled requests are 4XX; tokens show how close the API is.
        title: 'API: tokens consumed, active connections',
        metrics: [appsync('TokensConsumed', 'Sum', 'tokens'), appsync('ActiveConnections', 'Sum', 'connections')],
      },
    ]);
    const { webAcl } = this.props;
    if (webAcl) {
      const waf = (metricName: string, label: string): MetricSpec => ({
        namespace: 'AWS/WAFV2',
        metricName,
        dimensions: wafDimensions(webAcl, this.props.config.region),
        stat: 'Sum',
        label,
      });
      rows.push([
        {
          kind: 'metric',
          width: 24,
          title: `WAF ${webAcl.name}: requests`,
          metrics: [waf('AllowedRequests', 'allowed'), waf('BlockedRequests', 'blocked'), waf('CountedRequests', 'counted')],
          thresholds: [{ label: 'blocked alarm', value: alarms.wafBlockedRequests }],
        },
      ]);
    }

    for (const fn of this.props.functions) {
      const lambda = (metricName: string, stat: MetricSpec['stat'], label?: string): MetricSpec => ({
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: lambdaDimensions(fn),
        stat,
        ...(label ? { label } : {}),
      });
      const widgets: MetricWidgetSpec[] = [
        { kind: 'metric', width: 5, title: `Function ${fn.name}: invocations`, metrics: [lambda('Invocations', 'Sum')] },
        { kind: 'metric', width: 5, title: `Function ${fn.name}: errors`, metrics: [lambda('Errors', 'Sum')] },
        {
          kind: 'metric',
          width: 5,
          title: `Function ${fn.name}: duration (ms)`,
          metrics: [lambda('Duration', 'p50', 'p50'), lambda('Duration', 'p99', 'p99')],
          thresholds: [{ label: 'p99 alarm', value: alarms.lambdaDurationP99Ms }],
        },
        { kind: 'metric', width: 5, title: `Function ${fn.name}: throttles`, metrics: [lambda('Throttles', 'Sum')] },
        {
          kind: 'metric',
          width: 4,
          title: `Function ${fn.name}: concurrent executions`,
          metrics: [lambda('ConcurrentExecutions', 'Maximum')],
        },
      ];
      rows.push(widgets);
    }

    for (const table of this.props.tables) {
      const dynamodb = (metricName: string, label: string): MetricSpec => ({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensions: { TableName: table.physicalName },
        stat: 'Sum',
        label,
      });
      rows.push([
        {
          kind: 'metric',
          width: 12,
          title: `Table ${table.name}: consumed capacity units`,
          metrics: [dynamodb('ConsumedReadCapacityUnits', 'RCU'), dynamodb('ConsumedWriteCapacityUnits', 'WCU')],
        },
        {
          kind: 'metric',
          width: 12,
          title: `Table ${table.name}: throttle events`,
          metrics: [dynamodb('ReadThrottleEvents', 'reads'), dynamodb('WriteThrottleEvents', 'writes')],
        },
      ]);
    }

    for (const queue of this.props.queues ?? []) {
      const sqs = (metricName: string): MetricSpec => ({
        namespace: 'AWS/SQS',
        metricName,
        dimensions: { QueueName: queue.queueName },
        stat: 'Maximum',
      });
      rows.push([
        { kind: 'metric', width: 12, title: `Queue ${queue.name}: messages waiting`, metrics: [sqs('ApproximateNumberOfMessagesVisible')] },
        {
          kind: 'metric',
          width: 12,
          title: `Queue ${queue.name}: age of oldest message (s)`,
          metrics: [sqs('ApproximateAgeOfOldestMessage')],
        },
      ]);
    }
    return rows;
  }
}

/** The whole web ACL: `Rule: ALL` sums its rules and its default action. */
function wafDimensions(webAcl: MonitoredWebAcl, region: string): Record<string, string> {
  return { WebACL: webAcl.name, Region: region, Rule: 'ALL' };
}

/** The function across all its versions and aliases (see the class comment). */
function lambdaDimensions(fn: MonitoredFunction): Record<string, string> {
  return { FunctionName: fn.physicalName };
}
